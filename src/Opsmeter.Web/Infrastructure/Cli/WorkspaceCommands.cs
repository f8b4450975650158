using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Infrastructure.Cli;

/// <summary>
/// <c>workspace create NAME --owner EMAIL</c>: a new workspace owned by the account with that email, or, when there is none
/// yet, with an invitation for that email to own it (its <c>/invite/…</c> path is printed once). Exit codes: 0 done, 1 the name
/// is taken, 2 usage (name or email not valid). <c>workspace list</c>: every workspace with its members and owners.
/// <c>workspace quota NAME|ID N|none</c>: the workspace's own monthly request quota (exit 1 no such workspace, 2 not a quota).
/// </summary>
internal static class WorkspaceCommands
{
    public static async Task<int> CreateAsync(WebApplication app, string name, string ownerEmail)
    {
        var email = ownerEmail.Trim();
        if (!new EmailAddressAttribute().IsValid(email))
        {
            await Console.Error.WriteLineAsync($"--owner takes the owner's email address, not '{ownerEmail}'.");
            return 2;
        }

        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<OpsmeterDbContext>();
        var audit = services.GetRequiredService<AuditLog>();
        var clock = services.GetRequiredService<TimeProvider>();
        var actor = "cli:" + Environment.UserName;
        var normalized = email.ToUpperInvariant();
        var owner = await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == normalized).Select(u => new { u.Id, u.Email }).FirstOrDefaultAsync();
        var (created, problem) = owner is not null
            ? await ManageWorkspaces.CreateAsync(db, audit, clock, name, owner.Id, actor, CancellationToken.None)
            : await ManageWorkspaces.CreateWithInvitedOwnerAsync(db, audit, clock, name, email, invitedBy: Guid.Empty, actor, CancellationToken.None);
        if (created is null)
        {
            await Console.Error.WriteLineAsync(problem!.Message);
            return problem.Taken ? 1 : 2;
        }

        var workspace = created.Workspace;
        if (created.InvitationToken is not { } token)
        {
            Console.WriteLine($"Created workspace '{workspace.Name}' ({workspace.Id}), owned by {owner!.Email}.");
            return 0;
        }

        Console.WriteLine($"Created workspace '{workspace.Name}' ({workspace.Id}). No account has the email {email} yet: it is invited to own it.");
        Console.WriteLine($"Open this path on the server's address (for example http://localhost:5000{OwnerInvitation.PathOf(token)}) before " +
            $"{created.Invitation!.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; it is shown once:");
        Console.WriteLine(OwnerInvitation.PathOf(token));
        return 0;
    }

    public static async Task<int> ListAsync(WebApplication app)
    {
        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        var rows = await ListWorkspaces.AllAsync(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>(), CancellationToken.None);
        var width = Math.Max("NAME".Length, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length));
        Console.WriteLine($"{"NAME".PadRight(width)}  {"ID",-36}  {"CREATED (UTC)",-16}  {"MEMBERS",7}  OWNERS");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Name.PadRight(width)}  {r.Id,-36}  {r.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm}  {r.Members,7}  {(r.Owners.Count == 0 ? "-" : string.Join(", ", r.Owners))}"));
        }

        return 0;
    }

    public static async Task<int> SetQuotaAsync(WebApplication app, string workspaceName, string quotaText)
    {
        if (!SetWorkspaceQuota.TryParse(quotaText, out var quota))
        {
            await Console.Error.WriteLineAsync(SetWorkspaceQuota.Invalid);
            return 2;
        }

        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<OpsmeterDbContext>();
        if (await CreateApiKey.FindWorkspaceAsync(db, workspaceName, CancellationToken.None) is not { } workspace)
        {
            await Console.Error.WriteLineAsync($"No workspace '{workspaceName}' (by name or id).");
            return 1;
        }

        await SetWorkspaceQuota.HandleAsync(db, services.GetRequiredService<AuditLog>(), services.GetRequiredService<QuotaMeter>(),
            workspace.Id, quota, "cli:" + Environment.UserName, CancellationToken.None);
        Console.WriteLine(quota is null
            ? $"Workspace '{workspace.Name}' has no quota of its own now: the instance default (Opsmeter__Quota__DefaultMonthlyRequests) applies, if set."
            : $"Workspace '{workspace.Name}' may store {SetWorkspaceQuota.Describe(quota)} requests per UTC month. Running servers apply it within 20 s.");
        return 0;
    }
}
