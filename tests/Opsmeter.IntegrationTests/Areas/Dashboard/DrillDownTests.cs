using System.Net;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed class DrillDownTests(OpsmeterApp app)
{
    private async Task<(TestWorkspace Workspace, DashboardUser Person)> SeededAsync()
    {
        var ws = await app.CreateWorkspaceAsync();
        // gpt-4o $2.50/$10: 1000 in + 100 out = 0.0035; gpt-4o-mini $0.15/$0.60: 1000 in + 200 out = 0.00027
        var support = new TestEvent { Model = "gpt-4o", EndpointTag = "support.reply", InputTokens = 1000, OutputTokens = 100 };
        await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch([
            support with { ExternalRequestId = "d1", UserId = "u1", LatencyMs = 100 },
            support with { ExternalRequestId = "d2", UserId = "u2", LatencyMs = 300, Status = "error" },
            new TestEvent { ExternalRequestId = "d3", EndpointTag = "search", UserId = "u1", InputTokens = 1000, OutputTokens = 200, LatencyMs = 200 }]));
        return (ws, await DashboardUser.SignedInAsync(app, ws.Id));
    }

    [Fact]
    public async Task A_dimension_page_ranks_by_spend_and_sorts_on_request()
    {
        var (_, person) = await SeededAsync();
        using var _ = person;

        var (response, html) = await person.GetAsync("/Dashboard/Breakdown/endpointTag");
        var (_, byName) = await person.GetAsync("/Dashboard/Breakdown/endpointTag?sort=key&dir=asc");
        var (missing, _) = await person.GetAsync("/Dashboard/Breakdown/color");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(html.IndexOf("support.reply", StringComparison.Ordinal) < html.IndexOf(">search<", StringComparison.Ordinal));
        Assert.Contains("$0.0070", html, StringComparison.Ordinal); // support.reply: 2 × 0.0035
        Assert.True(byName.IndexOf(">search<", StringComparison.Ordinal) < byName.IndexOf("support.reply", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_row_drills_down_to_its_events_and_an_event_shows_its_price_and_cost_parts()
    {
        var (_, person) = await SeededAsync();
        using var _ = person;

        var (_, events) = await person.GetAsync("/Dashboard/Events?endpointTag=support.reply");
        var (_, errors) = await person.GetAsync("/Dashboard/Events?status=error");
        var (_, detail) = await person.GetAsync("/Dashboard/Events/Detail?id=d1");
        var (unknown, notFoundPage) = await person.GetAsync("/Dashboard/Events/Detail?id=not-there");

        Assert.Contains(">d1<", events, StringComparison.Ordinal);
        Assert.Contains(">d2<", events, StringComparison.Ordinal);
        Assert.DoesNotContain(">d3<", events, StringComparison.Ordinal);
        Assert.Contains(">d2<", errors, StringComparison.Ordinal);
        Assert.DoesNotContain(">d1<", errors, StringComparison.Ordinal);
        Assert.Contains("data-figure=\"cost\">$0.003500<", detail, StringComparison.Ordinal);
        Assert.Contains("$0.002500", detail, StringComparison.Ordinal); // input part
        Assert.Contains("Priced by openai / gpt-4o", detail, StringComparison.Ordinal);
        Assert.Contains("Cost source: <strong>catalog</strong>; service tier: standard", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("<h1>Not found</h1>", notFoundPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_workspaces_event_is_not_found()
    {
        var (_, person) = await SeededAsync();
        using var _ = person;
        var other = await app.CreateWorkspaceAsync();
        await other.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = "theirs-1" }.Content());

        var (response, _) = await person.GetAsync("/Dashboard/Events/Detail?id=theirs-1");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
