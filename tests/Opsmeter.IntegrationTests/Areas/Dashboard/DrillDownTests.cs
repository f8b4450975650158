using System.Net;
using System.Text.RegularExpressions;
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
    public async Task A_dimension_with_many_values_is_shown_a_hundred_rows_a_page_in_the_chosen_sort()
    {
        // 150 users, user-000 spending least and user-149 most (input tokens grow with the number).
        var ws = await app.CreateWorkspaceAsync();
        var events = Enumerable.Range(0, 150).Select(n => new TestEvent
        {
            ExternalRequestId = $"p{n}", UserId = $"user-{n:000}", Model = "gpt-4o", InputTokens = 1000 + (n * 10), OutputTokens = 10,
        });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch([.. events]))).StatusCode);
        using var person = await DashboardUser.SignedInAsync(app, ws.Id);

        var (_, first) = await person.GetAsync("/Dashboard/Breakdown/userId");
        var (_, second) = await person.GetAsync("/Dashboard/Breakdown/userId?sort=cost&dir=desc&page=2");
        var (_, byName) = await person.GetAsync("/Dashboard/Breakdown/userId?sort=key&dir=asc&page=2");
        var (_, beyond) = await person.GetAsync("/Dashboard/Breakdown/userId?page=99");
        var (_, events1) = await person.GetAsync("/Dashboard/Events");
        var (_, events2) = await person.GetAsync("/Dashboard/Events?page=2");

        Assert.Contains(">user-149<", first, StringComparison.Ordinal);
        Assert.Contains(">user-050<", first, StringComparison.Ordinal);
        Assert.DoesNotContain(">user-049<", first, StringComparison.Ordinal);
        Assert.Contains("Page 1 of 2 (150 users)", first, StringComparison.Ordinal);
        Assert.Contains("page=2", first, StringComparison.Ordinal);
        Assert.Contains(">user-049<", second, StringComparison.Ordinal);
        Assert.Contains(">user-000<", second, StringComparison.Ordinal);
        Assert.DoesNotContain(">user-050<", second, StringComparison.Ordinal);
        Assert.Contains(">user-100<", byName, StringComparison.Ordinal); // by name, page 2 starts where page 1 ended
        Assert.DoesNotContain(">user-099<", byName, StringComparison.Ordinal);
        Assert.Contains("Page 2 of 2", beyond, StringComparison.Ordinal); // past the end: the last page
        // The events list pages too (50 a page): its page 2 is another 50 events ("page" is read from the query, not
        // from Razor Pages' own route value of that name).
        static HashSet<string> Ids(string html) => [.. Regex.Matches(html, @">(p\d+)<").Select(m => m.Groups[1].Value)];
        Assert.Contains("Page 2", events2, StringComparison.Ordinal);
        Assert.Equal(50, Ids(events2).Count);
        Assert.Empty(Ids(events1).Intersect(Ids(events2)));
    }

    [Fact]
    public async Task A_search_finds_values_beyond_the_first_page_in_any_case_and_keeps_itself_in_the_sort_and_page_links()
    {
        var ws = await app.CreateWorkspaceAsync();
        var events = Enumerable.Range(0, 150).Select(n => new TestEvent
        {
            ExternalRequestId = $"s{n}", UserId = $"User-{n:000}", Model = "gpt-4o", InputTokens = 1000 + (n * 10), OutputTokens = 10,
        });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch([.. events]))).StatusCode);
        using var person = await DashboardUser.SignedInAsync(app, ws.Id);

        var (_, found) = await person.GetAsync("/Dashboard/Breakdown/userId?search=user-00");
        var (_, none) = await person.GetAsync("/Dashboard/Breakdown/userId?search=nobody");

        // User-000 … User-009 spend least: on the last page unsearched, the only rows searched.
        Assert.Equal(10, Regex.Count(found, @">User-00\d<"));
        Assert.DoesNotContain(">User-010<", found, StringComparison.Ordinal);
        Assert.Contains("value=\"user-00\"", found, StringComparison.Ordinal); // the box shows what was searched
        Assert.Contains("search=user-00&amp;sort=key", found, StringComparison.Ordinal); // sorting keeps the search
        Assert.Contains("data-no-match", none, StringComparison.Ordinal);
        Assert.Contains("Show all", none, StringComparison.Ordinal);
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
