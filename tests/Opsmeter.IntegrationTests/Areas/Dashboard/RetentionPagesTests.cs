using System.Net;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed class RetentionPagesTests(OpsmeterApp app)
{
    [Fact]
    public async Task An_owner_sets_retention_and_a_range_past_it_says_where_raw_events_begin()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var invalid = await owner.PostFormAsync("/Dashboard/Settings?handler=Retention",
            new() { ["Retention.RawRetentionDays"] = "90", ["Retention.RollupRetentionDays"] = "60" }, formPage: "/Dashboard/Settings");
        Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
        Assert.Contains("at least as long as raw events", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var saved = await owner.PostFormAsync("/Dashboard/Settings?handler=Retention",
            new() { ["Retention.RawRetentionDays"] = "7", ["Retention.RollupRetentionDays"] = "365" }, formPage: "/Dashboard/Settings");
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var workspace = await app.WithDbAsync(db => db.Workspaces.SingleAsync(w => w.Id == ws.Id));
        Assert.Equal((7, 365), (workspace.RawRetentionDays, workspace.RollupRetentionDays));

        Assert.DoesNotContain("data-retention-notice", (await owner.GetAsync("/Dashboard?range=7d")).Html, StringComparison.Ordinal);
        Assert.Contains("data-retention-notice", (await owner.GetAsync("/Dashboard?range=30d")).Html, StringComparison.Ordinal);
        var export = await ws.Client.GetAsync("/v1/exports/requests.csv?range=30d");
        Assert.True(export.Headers.Contains("Opsmeter-Raw-Events-From"));
    }

    [Fact]
    public async Task A_member_can_read_the_settings_but_not_change_retention_and_ingest_follows_a_change_at_once()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/Dashboard/Settings")).Response.StatusCode);

        var refused = await member.PostFormAsync("/Dashboard/Settings?handler=Retention",
            new() { ["Retention.RawRetentionDays"] = "1", ["Retention.RollupRetentionDays"] = "1" }, formPage: "/Dashboard/Settings");

        Assert.StartsWith("/account/denied", refused.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(30, await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).Select(w => w.RawRetentionDays).SingleAsync()));

        // An owner's change applies to ingest at once: an event 3 days old is refused once raw events are kept 2 days.
        var threeDaysAgo = new TestEvent { OccurredAt = DateTimeOffset.UtcNow.AddDays(-3) };
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest", threeDaysAgo.Content())).StatusCode);
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        await owner.PostFormAsync("/Dashboard/Settings?handler=Retention",
            new() { ["Retention.RawRetentionDays"] = "2", ["Retention.RollupRetentionDays"] = "400" }, formPage: "/Dashboard/Settings");
        Assert.Equal(HttpStatusCode.BadRequest,
            (await ws.Client.PostAsync("/v1/ingest", (threeDaysAgo with { ExternalRequestId = "again" }).Content())).StatusCode);
    }
}
