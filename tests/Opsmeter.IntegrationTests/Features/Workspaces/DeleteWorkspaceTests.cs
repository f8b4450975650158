using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Features.Repricing;
using Opsmeter.Web.Infrastructure.Database;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Workspaces;

/// <summary>Deleting a workspace from the dashboard: everything of it goes, in one transaction, and nothing of another.</summary>
[Collection(SharedApp.Name)]
public sealed class DeleteWorkspaceTests(OpsmeterApp app)
{
    private const string Page = "/Dashboard/Settings/Workspace";
    private const string Delete = Page + "?handler=Delete";
    private const string Password = "correct horse battery";

    [Fact]
    public async Task Every_table_with_a_workspace_id_is_emptied_by_the_deletion_or_kept_on_purpose()
    {
        // A new table with a workspace_id fails this until DeleteWorkspace.Tables (or Kept, with the reason) names it.
        var tables = await app.WithDbAsync(db => db.Database.SqlQuery<string>($"""
            SELECT DISTINCT c.table_name AS "Value"
            FROM information_schema.columns c
            JOIN pg_namespace n ON n.nspname = c.table_schema
            JOIN pg_class t ON t.relnamespace = n.oid AND t.relname = c.table_name
            WHERE c.column_name = 'workspace_id' AND t.relkind IN ('r', 'p') AND NOT t.relispartition
            """).ToListAsync());

        Assert.Equal(DeleteWorkspace.Tables.Concat(DeleteWorkspace.Kept.Keys).Order(), tables.Order());
    }

    [Fact]
    public async Task Deleting_removes_every_row_of_the_workspace_refuses_its_key_at_once_and_leaves_a_neighbour_whole()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var doomed = await app.CreateWorkspaceAsync();
        var neighbour = await app.CreateWorkspaceAsync();
        var pendingDelivery = await SeedEveryTableAsync(doomed, receiver.Url);
        await SeedEveryTableAsync(neighbour, receiver.Url);
        var (email, _) = await DashboardUser.CreatePersonAsync(app, doomed.Id);
        await JoinAsync(neighbour.Id, email);
        using var owner = await SignInAsync(email);
        await owner.PostFormAsync("/Dashboard/Workspace", new() { ["id"] = doomed.Id.ToString() }, formPage: "/Dashboard/Settings");
        var name = await NameOfAsync(doomed.Id);
        var neighbourName = await NameOfAsync(neighbour.Id);
        var doomedBefore = await CountsAsync(doomed.Id);
        var neighbourBefore = await CountsAsync(neighbour.Id);
        Assert.All(DeleteWorkspace.Tables, table => Assert.True(doomedBefore[table] > 0 && neighbourBefore[table] > 0, $"no rows seeded in {table}"));
        Assert.Equal(HttpStatusCode.OK, (await doomed.Client.GetAsync("/v1/diagnostics/workspace-status")).StatusCode); // the key is cached now

        var response = await owner.PostFormAsync(Delete, new() { ["Confirmation"] = name }, formPage: Page);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Dashboard/Workspaces", response.Headers.Location?.OriginalString);
        Assert.All(await CountsAsync(doomed.Id), count => Assert.True(count.Value == 0, $"{count.Value} rows left in {count.Key}"));
        Assert.Equal(neighbourBefore, await CountsAsync(neighbour.Id));
        Assert.False(await app.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Id == doomed.Id)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await doomed.Client.GetAsync("/v1/diagnostics/workspace-status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await doomed.Client.PostAsync("/v1/ingest", new TestEvent().Content())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await neighbour.Client.GetAsync("/v1/diagnostics/workspace-status")).StatusCode);
        var (_, overview) = await owner.GetAsync("/Dashboard");
        Assert.Contains($"Overview · {neighbourName}<", overview, StringComparison.Ordinal);

        // Jobs queued before the deletion find nothing left to act on.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DeliverWebhookJob>().RunAsync(pendingDelivery, CancellationToken.None);
            await scope.ServiceProvider.GetRequiredService<RepriceJob>().RunAsync(doomed.Id, CancellationToken.None);
        }

        Assert.Empty(receiver.Received);
        Assert.All(await CountsAsync(doomed.Id), count => Assert.Equal(0, count.Value));

        // The audit log keeps the workspace's own entries; the instance's records the deletion.
        Assert.True(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.WorkspaceId == doomed.Id && a.Action == "test.seeded")));
        var deleted = await app.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.Action == AuditActions.WorkspaceDeleted && a.Target == $"{name} ({doomed.Id})"));
        Assert.Null(deleted.WorkspaceId);
        Assert.Equal(email, deleted.Actor);
        Assert.Contains("llm_requests", deleted.Before, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_needs_the_exact_name_typed_and_an_owner()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", new TestEvent().Content());
        var name = await NameOfAsync(ws.Id);
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Admin);
        var before = await CountsAsync(ws.Id);

        var (_, adminPage) = await admin.GetAsync(Page);
        var byAdmin = await admin.PostFormAsync(Delete, new() { ["Confirmation"] = name }, formPage: Page);
        var wrongCase = await owner.PostFormAsync(Delete, new() { ["Confirmation"] = name.ToUpperInvariant() }, formPage: Page);
        var empty = await owner.PostFormAsync(Delete, new() { ["Confirmation"] = "" }, formPage: Page);

        Assert.Contains("Only an owner can delete", adminPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, byAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, wrongCase.StatusCode);
        Assert.Contains("Nothing was deleted", await wrongCase.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("Nothing was deleted", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await app.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Id == ws.Id)));
        Assert.Equal(before, await CountsAsync(ws.Id));
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.GetAsync("/v1/diagnostics/workspace-status")).StatusCode);
    }

    [Fact]
    public async Task Deleting_ones_only_workspace_leaves_the_empty_state()
    {
        var ws = await app.CreateWorkspaceAsync();
        var name = await NameOfAsync(ws.Id);
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        await owner.PostFormAsync(Delete, new() { ["Confirmation"] = name }, formPage: Page);
        var (overview, _) = await owner.GetAsync("/Dashboard");
        var (_, workspaces) = await owner.GetAsync("/Dashboard/Workspaces");

        Assert.Equal("/Dashboard/Workspaces", overview.Headers.Location?.OriginalString);
        Assert.Contains("and all its data were deleted", workspaces, StringComparison.Ordinal);
        Assert.Contains("belongs to no workspace yet", workspaces, StringComparison.Ordinal);
    }

    /// <summary>Gives the workspace rows in every table <see cref="DeleteWorkspace"/> empties; returns its pending webhook delivery.</summary>
    private async Task<Guid> SeedEveryTableAsync(TestWorkspace ws, string webhookUrl)
    {
        var day = PastDay();
        await IngestCostAsync(ws, 12m, day.AddHours(1));                                        // llm_requests, ingest_keys
        var budgetId = await CreateBudgetAsync(ws, """{"name":"daily","period":"daily","limitUsd":10}"""); // budgets
        await EvaluateAtAsync(app, budgetId, day.AddHours(2));                                    // incidents
        await app.FoldAllAsync(ws.Id);                                                            // usage_rollups
        var priced = await ws.Client.PostAsync("/v1/pricing/overrides", Json($$"""
            {"provider":"openai","model":"house-llama","inputPerMillionUsd":1,"outputPerMillionUsd":2,"effectiveFrom":"{{day:O}}","reason":"own GPUs"}
            """));                                                                                 // model_prices, price_audit
        Assert.True(priced.IsSuccessStatusCode, await priced.Content.ReadAsStringAsync());
        await DashboardUser.CreatePersonAsync(app, ws.Id, WorkspaceRoles.Member);                // workspace_members (api_keys: the test's key)
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RepriceJob>().RunAsync(ws.Id, CancellationToken.None); // reprice_runs
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var now = DateTimeOffset.UtcNow;
        var channel = new WebhookChannel
        {
            Id = Guid.CreateVersion7(), WorkspaceId = ws.Id, Name = "hook", Url = webhookUrl, Format = WebhookFormats.Generic, CreatedAt = now,
            ProtectedSecret = WebhookSecrets.Protect(scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), "whsec_test"),
        };
        var delivery = new WebhookDelivery
        {
            Id = Guid.CreateVersion7(), WorkspaceId = ws.Id, ChannelId = channel.Id, Kind = "test", Body = "{}", Status = DeliverWebhookJob.Pending,
            CreatedAt = now,
        };
        db.WebhookChannels.Add(channel);                                                          // webhook_channels
        db.WebhookDeliveries.Add(delivery);                                                       // webhook_deliveries
        db.Invitations.Add(OwnerInvitation.Create(ws.Id, $"{Guid.NewGuid():N}@example.test", Guid.Empty, now).Invitation); // invitations
        db.AuditLog.Add(new AuditEntry { WorkspaceId = ws.Id, At = now, Actor = "test", Action = "test.seeded" }); // audit_log (kept)
        await db.SaveChangesAsync();
        return delivery.Id;
    }

    private async Task<Dictionary<string, long>> CountsAsync(Guid workspaceId)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        var counts = new Dictionary<string, long>();
        foreach (var table in DeleteWorkspace.Tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table} WHERE workspace_id = @id", connection);
            count.Parameters.AddWithValue("id", workspaceId);
            counts[table] = (long)(await count.ExecuteScalarAsync())!;
        }

        return counts;
    }

    private Task<string> NameOfAsync(Guid workspaceId) =>
        app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == workspaceId).Select(w => w.Name).SingleAsync());

    private Task<int> JoinAsync(Guid workspaceId, string email) => app.WithDbAsync(async db =>
    {
        var userId = await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
        db.WorkspaceMembers.Add(new WorkspaceMember { WorkspaceId = workspaceId, UserId = userId, Role = WorkspaceRoles.Member, CreatedAt = DateTimeOffset.UtcNow });
        return await db.SaveChangesAsync();
    });

    private async Task<DashboardUser> SignInAsync(string email)
    {
        var user = DashboardUser.For(app);
        var response = await user.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return user;
    }
}
