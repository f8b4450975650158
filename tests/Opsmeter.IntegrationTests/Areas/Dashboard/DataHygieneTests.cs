using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed class DataHygieneTests(OpsmeterApp app)
{
    [Fact]
    public async Task Demo_data_is_priced_demo_mode_only_and_deleting_it_leaves_real_events()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = "real-1" }.Content());
        await ws.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = "test-1", DataMode = "test" }.Content());

        var demo = await ws.Client.PostAsync("/v1/ingest/demo", null);
        var created = (await demo.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32();
        var demoRows = await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id && r.DataMode == "demo"));
        var priced = await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id && r.DataMode == "demo" && r.CostStatus == "priced"));
        var deleted = await (await ws.Client.DeleteAsync("/v1/ingest/demo-data")).Content.ReadFromJsonAsync<JsonElement>();
        var deletedTest = await (await ws.Client.DeleteAsync("/v1/ingest/test-data")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, demo.StatusCode);
        Assert.True(created >= 500);
        Assert.Equal(created, demoRows);
        Assert.True(priced > demoRows / 2, $"only {priced} of {demoRows} demo events priced");
        Assert.Equal(created, deleted.GetProperty("deleted").GetInt32());
        Assert.Equal(1, deletedTest.GetProperty("deleted").GetInt32());
        Assert.Equal(["real-1"], await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).Select(r => r.ExternalRequestId).ToListAsync()));
    }

    [Fact]
    public async Task Deleting_data_needs_the_admin_scope()
    {
        var ingestOnly = await app.CreateWorkspaceAsync("ingest");

        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.Client.DeleteAsync("/v1/ingest/demo-data")).StatusCode);
    }

    [Fact]
    public async Task The_checklist_names_what_recent_events_lack_and_the_demo_button_adds_demo_data()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = null, EndpointTag = "support.reply" }.Content());
        await ws.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = null, Provider = "acme", Model = "mystery-1", EndpointTag = "support.reply", UserId = "u1" }.Content());
        using var person = await DashboardUser.SignedInAsync(app, ws.Id);

        var (_, html) = await person.GetAsync("/Dashboard/Settings");
        var added = await person.PostFormAsync("/Dashboard/Settings?handler=Demo", [], formPage: "/Dashboard/Settings");
        var (_, after) = await person.GetAsync("/Dashboard/Settings");

        Assert.Contains("2 events lack it; prompt changes", html, StringComparison.Ordinal);
        Assert.Contains("1 events lack it (send a hashed id)", html, StringComparison.Ordinal);
        Assert.Contains("no price for acme / mystery-1", html, StringComparison.Ordinal);
        Assert.Contains("endpointTag</strong>: sent on every event", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        Assert.Contains("demo events", after, StringComparison.Ordinal);
        Assert.True(await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id && r.DataMode == "demo")) > 0);
    }
}
