using System.Net;
using System.Text.RegularExpressions;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed partial class AuditPageTests(OpsmeterApp app)
{
    private static readonly DateTimeOffset March = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private Task<int> SeedAsync(params AuditEntry[] entries) => app.WithDbAsync(db =>
    {
        db.AuditLog.AddRange(entries);
        return db.SaveChangesAsync();
    });

    private static AuditEntry Entry(Guid? workspaceId, DateTimeOffset at, string actor, string action, string target) =>
        new() { WorkspaceId = workspaceId, At = at, Actor = actor, Action = action, Target = target, Before = "old", After = "new" };

    /// <summary>The targets of the rows a page shows, top to bottom.</summary>
    private static List<string> Targets(string html) => [.. Row().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))];

    [Fact]
    public async Task Filters_by_action_actor_and_utc_days_newest_first_and_only_ever_the_current_workspace()
    {
        var ws = await app.CreateEmptyWorkspaceAsync();
        var other = await app.CreateEmptyWorkspaceAsync();
        await SeedAsync(
            Entry(ws, March, "alice@example.test", AuditActions.BudgetCreated, "first"),
            Entry(ws, March.AddDays(4), "key om_abcd1234", AuditActions.RetentionChanged, "second"),
            Entry(ws, March.AddDays(8), "bob@example.test", AuditActions.BudgetDeleted, "third"),
            Entry(other, March.AddDays(1), "alice@example.test", AuditActions.BudgetCreated, "another workspace's"),
            Entry(null, March.AddDays(1), "alice@example.test", AuditActions.WorkspaceCreated, "the instance's"));
        using var owner = await DashboardUser.SignedInAsync(app, ws);

        Assert.Equal(["third", "second", "first"], Targets((await owner.GetAsync("/Dashboard/Audit")).Html));
        Assert.Equal(["third"], Targets((await owner.GetAsync("/Dashboard/Audit?action=budget.deleted")).Html));
        Assert.Equal(["first"], Targets((await owner.GetAsync("/Dashboard/Audit?action=budget.created")).Html));
        Assert.Equal(["first"], Targets((await owner.GetAsync("/Dashboard/Audit?actor=ALICE")).Html));
        Assert.Equal(["second"], Targets((await owner.GetAsync("/Dashboard/Audit?from=2026-03-02&to=2026-03-05")).Html));
        Assert.Equal(["third"], Targets((await owner.GetAsync("/Dashboard/Audit?from=2026-03-09")).Html));
        // Whatever the query string names, the workspace log is the session's workspace's.
        foreach (var crafted in new[] { $"?workspaceId={other}", $"?workspace={other}&scope=workspace", "?scope=all", $"?handler=&workspaceId={other}" })
        {
            var (response, html) = await owner.GetAsync("/Dashboard/Audit" + crafted);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(["third", "second", "first"], Targets(html));
        }

        var (_, none) = await owner.GetAsync("/Dashboard/Audit?actor=nobody");
        Assert.Contains("No entry matches these filters", none, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_csv_holds_every_filtered_entry_with_formula_cells_escaped()
    {
        var ws = await app.CreateWorkspaceAsync();
        await SeedAsync(
            Entry(ws.Id, March, "alice@example.test", AuditActions.BudgetCreated, "=HYPERLINK(\"https://evil.test\",\"click\")"),
            Entry(ws.Id, March.AddDays(1), "bob@example.test", AuditActions.BudgetChanged, "plain, with a comma"),
            Entry(ws.Id, March.AddDays(2), "carol@example.test", AuditActions.BudgetDeleted, "not this one"));
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Admin);

        var (response, csv) = await admin.GetAsync("/Dashboard/Audit?handler=Csv&to=2026-03-02");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("attachment", response.Content.Headers.ContentDisposition!.ToString(), StringComparison.Ordinal);
        var lines = csv.TrimEnd().Split("\r\n");
        Assert.Equal(
        [
            "at,actor,action,target,before,after",
            "2026-03-02T12:00:00Z,bob@example.test,budget.changed,\"plain, with a comma\",old,new",
            "2026-03-01T12:00:00Z,alice@example.test,budget.created,\"'=HYPERLINK(\"\"https://evil.test\"\",\"\"click\"\")\",old,new",
        ], lines);
        var (_, link) = await admin.GetAsync("/Dashboard/Audit?actor=bob");
        Assert.Contains("href=\"/Dashboard/Audit?actor=bob&amp;handler=Csv\"", link, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_of_100_follow_older_links_on_the_id()
    {
        var ws = await app.CreateWorkspaceAsync();
        await SeedAsync([.. Enumerable.Range(0, 105).Select(i => Entry(ws.Id, March.AddMinutes(i), "alice@example.test", AuditActions.BudgetChanged, $"entry {i}"))]);
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var (_, first) = await owner.GetAsync("/Dashboard/Audit?actor=alice");
        var older = WebUtility.HtmlDecode(Older().Match(first).Groups[1].Value);
        var (_, second) = await owner.GetAsync(older);

        Assert.Equal(100, Targets(first).Count);
        Assert.Equal(("entry 104", "entry 5"), (Targets(first)[0], Targets(first)[^1]));
        Assert.Contains("actor=alice", older, StringComparison.Ordinal);
        Assert.Equal(["entry 4", "entry 3", "entry 2", "entry 1", "entry 0"], Targets(second));
        Assert.DoesNotContain("data-older", second, StringComparison.Ordinal);
        Assert.Contains("← Newest", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_log_says_what_will_appear_and_members_cannot_open_it()
    {
        var ws = await app.CreateEmptyWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws);
        using var member = await DashboardUser.SignedInAsync(app, ws, WorkspaceRoles.Member);

        var (_, empty) = await owner.GetAsync("/Dashboard/Audit");
        var (refused, _) = await member.GetAsync("/Dashboard/Audit");
        var (refusedCsv, _) = await member.GetAsync("/Dashboard/Audit?handler=Csv");

        Assert.Contains("data-empty", empty, StringComparison.Ordinal);
        Assert.Contains("Nothing has been changed in this workspace yet", empty, StringComparison.Ordinal);
        Assert.Contains(">Audit</a>", empty, StringComparison.Ordinal);
        Assert.StartsWith("/account/denied", refused.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("/account/denied", refusedCsv.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(">Audit</a>", (await member.GetAsync("/Dashboard")).Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_instance_log_is_refused_to_a_workspace_owner_and_shown_to_an_instance_administrator()
    {
        var ws = await app.CreateWorkspaceAsync();
        var marker = $"instance-{Guid.NewGuid():N}";
        await SeedAsync(Entry(null, March, marker, AuditActions.WorkspaceCreated, "acme"), Entry(ws.Id, March, marker, AuditActions.BudgetCreated, "mine"));
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var administrator = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Owner, instanceAdmin: true);

        var (ownerView, ownerHtml) = await owner.GetAsync($"/Dashboard/Audit?scope=instance&actor={marker}");
        var (ownerCsv, ownerCsvText) = await owner.GetAsync($"/Dashboard/Audit?scope=instance&handler=Csv&actor={marker}");
        var (_, workspaceView) = await owner.GetAsync($"/Dashboard/Audit?actor={marker}");
        var (adminView, adminHtml) = await administrator.GetAsync($"/Dashboard/Audit?scope=instance&actor={marker}");
        var (_, adminCsv) = await administrator.GetAsync($"/Dashboard/Audit?scope=instance&handler=Csv&actor={marker}");

        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.Forbidden), (ownerView.StatusCode, ownerCsv.StatusCode));
        Assert.DoesNotContain("acme", ownerHtml + ownerCsvText, StringComparison.Ordinal);
        Assert.DoesNotContain("data-scope", workspaceView, StringComparison.Ordinal); // no switch offered
        Assert.Equal(["mine"], Targets(workspaceView));
        Assert.Equal(HttpStatusCode.OK, adminView.StatusCode);
        Assert.Equal(["acme"], Targets(adminHtml));
        Assert.Contains("data-scope=\"instance\"", adminHtml, StringComparison.Ordinal);
        Assert.Contains($"{marker},workspace.created,acme", adminCsv, StringComparison.Ordinal);
        Assert.DoesNotContain("mine", adminCsv, StringComparison.Ordinal);
    }

    [GeneratedRegex("<tr data-audit=\"[^\"]+\">\\s*<td>[^<]*</td>\\s*<td>[^<]*</td>\\s*<td><code>[^<]*</code></td>\\s*<td>([^<]*)</td>")]
    private static partial Regex Row();

    [GeneratedRegex("<a href=\"([^\"]+)\" data-older>")]
    private static partial Regex Older();
}
