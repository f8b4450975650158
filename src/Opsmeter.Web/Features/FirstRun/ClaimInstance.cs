using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.FirstRun;

/// <summary>
/// First run's claim: the first account, its new workspace and the end of the setup token, in one transaction under
/// one instance-wide lock, so however many people post at once on however many nodes, exactly one becomes owner.
/// Setup never adopts an existing workspace (one made by the bootstrap settings may already hold data).
/// </summary>
internal sealed class ClaimInstance(OpsmeterDbContext db, UserManager<OpsmeterUser> users, SetupToken token, AuditLog audit, TimeProvider clock)
{
    public enum Outcome
    {
        Claimed,
        AlreadyClaimed,
        WorkspaceNameTaken,
        AccountRefused,
    }

    public sealed record Result(Outcome Outcome, IReadOnlyList<string> Errors);

    public async Task<Result> RunAsync(string email, string password, string workspaceName, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The second of two concurrent claims waits here until the first commits, then finds its account.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext('opsmeter first-run claim'))", ct);
        if (await db.Users.AnyAsync(ct))
        {
            return new(Outcome.AlreadyClaimed, []);
        }

        var (name, problem) = await WorkspaceNames.CheckAsync(db, workspaceName, exceptWorkspaceId: null, ct);
        if (problem is not null)
        {
            return new(Outcome.WorkspaceNameTaken, [problem.Message]);
        }

        var workspace = new Workspace { Id = Guid.CreateVersion7(clock.GetUtcNow()), Name = name, CreatedAt = clock.GetUtcNow() };
        db.Workspaces.Add(workspace);
        await db.SaveChangesAsync(ct);
        var created = await CreateOwner.HandleAsync(users, db, clock, email, password, workspace.Id);
        if (!created.Succeeded)
        {
            return new(Outcome.AccountRefused, [.. created.Errors.Select(e => e.Description)]);
        }

        audit.Add(null, AuditActions.SetupClaimed, email, actor: email);
        audit.Add(null, AuditActions.WorkspaceCreated, $"{workspace.Name} ({workspace.Id})", actor: email);
        await db.SaveChangesAsync(ct);
        await token.DeleteAsync(ct);
        await transaction.CommitAsync(ct);
        return new(Outcome.Claimed, []);
    }
}
