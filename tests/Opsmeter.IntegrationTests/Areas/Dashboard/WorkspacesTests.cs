using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

/// <summary>Creating and renaming workspaces on the dashboard, and who may.</summary>
[Collection(SharedApp.Name)]
public sealed class WorkspacesTests(OpsmeterApp app)
{
    private const string WorkspacesPage = "/Dashboard/Workspaces";
    private const string Create = WorkspacesPage + "?handler=Create";
    private const string RenamePage = "/Dashboard/Settings/Workspace";

    [Fact]
    public async Task An_instance_admin_creates_a_workspace_owns_it_and_works_in_it()
    {
        var home = await app.CreateWorkspaceAsync();
        using var admin = await DashboardUser.SignedInAsync(app, home.Id, WorkspaceRoles.Member, instanceAdmin: true);
        var name = "created-" + Guid.NewGuid().ToString("N")[..8];

        var response = await admin.PostFormAsync(Create, new() { ["Form.Name"] = $"  {name}  " }, formPage: WorkspacesPage);
        var (_, overview) = await admin.GetAsync("/Dashboard");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains($"Overview · {name}<", overview, StringComparison.Ordinal); // trimmed, and the one worked in now
        var created = await app.WithDbAsync(db => db.Workspaces.SingleAsync(w => w.Name == name));
        var roles = await app.WithDbAsync(db => db.WorkspaceMembers.Where(m => m.WorkspaceId == created.Id).Select(m => m.Role).ToListAsync());
        Assert.Equal([WorkspaceRoles.Owner], roles);
        var entry = await app.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.Action == AuditActions.WorkspaceCreated && a.Target == $"{name} ({created.Id})"));
        Assert.Null(entry.WorkspaceId);
        Assert.EndsWith("@example.test", entry.Actor, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workspace_owner_who_is_not_an_instance_admin_cannot_create_one()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var name = "refused-" + Guid.NewGuid().ToString("N")[..8];

        var (_, page) = await owner.GetAsync(WorkspacesPage);
        var response = await owner.PostFormAsync(Create, new() { ["Form.Name"] = name }, formPage: WorkspacesPage);

        Assert.DoesNotContain("Create workspace", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(await app.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Name == name)));
    }

    [Fact]
    public async Task A_person_in_no_workspace_is_sent_to_the_workspaces_page_which_says_so()
    {
        using var person = await SignedInWithoutWorkspaceAsync(app);

        var (dashboard, _) = await person.GetAsync("/Dashboard/Budgets");
        var (page, html) = await person.GetAsync(WorkspacesPage);
        var create = await person.PostFormAsync(Create, new() { ["Form.Name"] = "nobody-" + Guid.NewGuid().ToString("N")[..8] }, formPage: WorkspacesPage);

        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
        Assert.Equal(WorkspacesPage, dashboard.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("belongs to no workspace yet", html, StringComparison.Ordinal);
        Assert.Contains("Ask a workspace owner", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Create workspace", html, StringComparison.Ordinal);
        Assert.Contains("Sign out", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
    }

    [Fact]
    public async Task With_AnyoneCanCreate_a_person_in_no_workspace_creates_their_first()
    {
        await using var open = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:Workspaces:AnyoneCanCreate"] = "true" });
        await open.InitializeAsync();
        var ws = await open.CreateWorkspaceAsync();
        using var person = await SignedInWithoutWorkspaceAsync(open);
        using var member = await DashboardUser.SignedInAsync(open, ws.Id, WorkspaceRoles.Member);

        var (_, page) = await person.GetAsync(WorkspacesPage);
        var first = await person.PostFormAsync(Create, new() { ["Form.Name"] = "first of mine" }, formPage: WorkspacesPage);
        var (_, overview) = await person.GetAsync("/Dashboard");
        var byMember = await member.PostFormAsync(Create, new() { ["Form.Name"] = "a member's own" }, formPage: WorkspacesPage);

        Assert.Contains("Create workspace", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Contains("Overview · first of mine<", overview, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, byMember.StatusCode);
        Assert.True(await open.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Name == "a member's own")));
    }

    [Fact]
    public async Task A_name_taken_in_any_case_is_a_form_error_and_an_empty_one_too()
    {
        var ws = await app.CreateWorkspaceAsync();
        var taken = await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).Select(w => w.Name).SingleAsync());
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, instanceAdmin: true);
        var before = await app.WithDbAsync(db => db.Workspaces.CountAsync());

        var duplicate = await admin.PostFormAsync(Create, new() { ["Form.Name"] = taken.ToUpperInvariant() }, formPage: WorkspacesPage);
        var empty = await admin.PostFormAsync(Create, new() { ["Form.Name"] = "   " }, formPage: WorkspacesPage);
        var tooLong = await admin.PostFormAsync(Create, new() { ["Form.Name"] = new string('x', 129) }, formPage: WorkspacesPage);

        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        Assert.Contains($"A workspace named &quot;{taken}&quot; exists", await duplicate.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("Give the workspace a name", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("at most 128 characters", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await app.WithDbAsync(db => db.Workspaces.CountAsync()));
    }

    [Fact]
    public async Task A_name_taken_between_the_check_and_the_insert_is_a_form_error_from_the_unique_index()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, instanceAdmin: true);
        var name = "race-" + Guid.NewGuid().ToString("N")[..8];
        await using var other = new NpgsqlConnection(app.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO workspaces (id, name, created_at) VALUES (@id, @name, now())", other, transaction))
        {
            insert.Parameters.AddWithValue("id", Guid.NewGuid());
            insert.Parameters.AddWithValue("name", name);
            await insert.ExecuteNonQueryAsync();
        }

        // The check does not see the uncommitted row; the insert waits on the unique index until that transaction ends.
        var posting = admin.PostFormAsync(Create, new() { ["Form.Name"] = name }, formPage: WorkspacesPage);
        await WaitForTheInsertToWaitAsync(app.ConnectionString);
        await transaction.CommitAsync();
        var response = await posting;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"A workspace named &quot;{name}&quot; exists", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await app.WithDbAsync(db => db.Workspaces.CountAsync(w => w.Name == name)));
        Assert.False(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Target != null && a.Target.StartsWith(name + " ("))));
    }

    [Fact]
    public async Task An_admin_renames_the_workspace_a_member_cannot_and_the_log_says_before_and_after()
    {
        var ws = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var otherName = await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == other.Id).Select(w => w.Name).SingleAsync());
        var before = await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).Select(w => w.Name).SingleAsync());
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Admin);
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);
        var after = "renamed-" + Guid.NewGuid().ToString("N")[..8];

        var byMember = await member.PostFormAsync(RenamePage + "?handler=Rename", new() { ["Name"] = "by a member" }, formPage: "/Dashboard/Settings");
        var taken = await admin.PostFormAsync(RenamePage + "?handler=Rename", new() { ["Name"] = otherName.ToUpperInvariant() }, formPage: RenamePage);
        var renamed = await admin.PostFormAsync(RenamePage + "?handler=Rename", new() { ["Name"] = after + " " }, formPage: RenamePage);
        var (_, settings) = await admin.GetAsync("/Dashboard/Settings");

        Assert.Equal(HttpStatusCode.Redirect, byMember.StatusCode);
        Assert.StartsWith("/account/denied", byMember.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("exists", await taken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, renamed.StatusCode);
        Assert.Contains($"Settings · {after}<", settings, StringComparison.Ordinal);
        var entry = await app.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.WorkspaceId == ws.Id && a.Action == AuditActions.WorkspaceRenamed));
        Assert.Equal((before, after), (entry.Before, entry.After));
    }

    [Fact]
    public async Task Instance_admins_see_every_workspace_and_grant_and_revoke_the_role_but_never_the_last()
    {
        await using var fresh = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:Bootstrap:AdminEmail"] = "first@example.test",
            ["Opsmeter:Bootstrap:AdminPassword"] = "bootstrap passphrase",
        });
        await fresh.InitializeAsync();
        var first = await fresh.WithDbAsync(db => db.Users.SingleAsync(u => u.Email == "first@example.test"));
        var ws = await fresh.CreateWorkspaceAsync();
        var (secondEmail, _) = await DashboardUser.CreatePersonAsync(fresh, ws.Id, WorkspaceRoles.Admin);
        using var admin = DashboardUser.For(fresh);
        await admin.PostFormAsync("/account/signin", new() { ["Form.Email"] = "first@example.test", ["Form.Password"] = "bootstrap passphrase" });
        using var second = await SignInAsync(fresh, secondEmail);

        var (_, page) = await admin.GetAsync(WorkspacesPage);
        var lastOne = await admin.PostFormAsync($"{WorkspacesPage}?handler=Revoke&userId={first.Id}", new(), formPage: WorkspacesPage);
        var (_, afterLastOne) = await admin.GetAsync(WorkspacesPage);
        var notYet = await second.PostFormAsync($"{WorkspacesPage}?handler=Grant", new() { ["email"] = secondEmail }, formPage: WorkspacesPage);
        await admin.PostFormAsync($"{WorkspacesPage}?handler=Grant", new() { ["email"] = secondEmail.ToUpperInvariant() }, formPage: WorkspacesPage);
        var unknown = await admin.PostFormAsync($"{WorkspacesPage}?handler=Grant", new() { ["email"] = "nobody@example.test" }, formPage: WorkspacesPage);
        var (_, afterUnknown) = await admin.GetAsync(WorkspacesPage);
        await second.PostFormAsync($"{WorkspacesPage}?handler=Revoke&userId={first.Id}", new(), formPage: WorkspacesPage);

        Assert.Contains("data-instance-workspaces", page, StringComparison.Ordinal);
        Assert.Contains($"data-workspace=\"default\"", page, StringComparison.Ordinal);
        Assert.Contains("first@example.test", page, StringComparison.Ordinal); // the owner of "default"
        Assert.Equal(HttpStatusCode.Redirect, lastOne.StatusCode);
        Assert.Contains("only administrator", afterLastOne, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, notYet.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, unknown.StatusCode);
        Assert.Contains("There is no account with the email", afterUnknown, StringComparison.Ordinal);
        var admins = await fresh.WithDbAsync(db => db.Users.Where(u => u.IsInstanceAdmin).Select(u => u.Email).ToListAsync());
        Assert.Equal([secondEmail], admins);
        var log = await fresh.WithDbAsync(db => db.AuditLog.Where(a => a.Action.StartsWith("instance_admin.")).OrderBy(a => a.Id)
            .Select(a => new { a.WorkspaceId, a.Action, a.Actor, a.Target }).ToListAsync());
        Assert.Equal([(AuditActions.InstanceAdminGranted, "first@example.test"), (AuditActions.InstanceAdminRevoked, secondEmail)],
            log.Select(l => (l.Action, l.Actor)));
        Assert.All(log, l => Assert.Null(l.WorkspaceId));
        Assert.Equal($"first@example.test ({first.Id})", log[1].Target);
    }

    /// <summary>An account that belongs to no workspace, signed in.</summary>
    private static async Task<DashboardUser> SignedInWithoutWorkspaceAsync(OpsmeterApp target)
    {
        var email = $"{Guid.NewGuid():N}@example.test";
        await using (var scope = target.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<OpsmeterUser>>();
            var created = await users.CreateAsync(new OpsmeterUser { Id = Guid.CreateVersion7(), UserName = email, Email = email, CreatedAt = DateTimeOffset.UtcNow },
                "correct horse battery");
            Assert.True(created.Succeeded);
        }

        return await SignInAsync(target, email);
    }

    private static async Task<DashboardUser> SignInAsync(OpsmeterApp target, string email)
    {
        var user = DashboardUser.For(target);
        var response = await user.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = "correct horse battery" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return user;
    }

    /// <summary>
    /// Waits until the create's insert waits for a lock (behind the uncommitted row of the same name). Asked on a connection of
    /// its own: inside a transaction PostgreSQL answers pg_stat_activity from one snapshot.
    /// </summary>
    private static async Task WaitForTheInsertToWaitAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var probe = new NpgsqlCommand("""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO workspaces%'
            """, connection);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((long)(await probe.ExecuteScalarAsync())! == 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the create never waited on the unique index");
            await Task.Delay(20);
        }
    }
}
