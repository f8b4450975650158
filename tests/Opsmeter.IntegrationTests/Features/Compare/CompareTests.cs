using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Compare;

[Collection(SharedApp.Name)]
public sealed class CompareTests(OpsmeterApp app)
{
    private static readonly DateTimeOffset Day = new(DateTime.UtcNow.Date.AddDays(-3), TimeSpan.Zero);

    [Fact]
    public async Task Groups_are_ranked_by_absolute_cost_change_with_per_request_deltas_and_shares()
    {
        var ws = await app.CreateWorkspaceAsync();
        // Baseline day: search 10 × $1, chat 10 × $2, legacy 5 × $1. Current day: search 10 × $4 (+$30), chat 10 × $2 (±0), legacy gone (−$5).
        await SeedAsync(ws, Day.AddDays(-1), ("search", 10, 1m, 100), ("chat", 10, 2m, 200), ("legacy", 5, 1m, 50));
        await SeedAsync(ws, Day, ("search", 10, 4m, 400), ("chat", 10, 2m, 200));

        var result = await ws.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/compare?groupBy=endpointTag&from={Iso(Day)}&to={Iso(Day.AddDays(1))}");

        Assert.Equal(Day.AddDays(-1), result.GetProperty("baselineFrom").GetDateTimeOffset());
        Assert.Equal(25m, result.GetProperty("costDeltaUsd").GetDecimal()); // 60 − 35
        var rows = result.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["search", "legacy", "chat"], rows.Select(r => r.GetProperty("key").GetString()));
        var search = rows[0];
        Assert.Equal(30m, search.GetProperty("costDeltaUsd").GetDecimal());
        Assert.Equal(3m, search.GetProperty("costPerRequestDeltaUsd").GetDecimal());
        Assert.Equal(1.2m, search.GetProperty("shareOfChange").GetDecimal()); // 30 of a 25 net change
        Assert.Equal(-5m, rows[1].GetProperty("costDeltaUsd").GetDecimal());
        Assert.Equal(0, rows[1].GetProperty("current").GetProperty("requests").GetInt32());
        Assert.Equal(300m, search.GetProperty("tokensPerRequestDelta").GetDecimal()); // 410 − 110 tokens a request
    }

    [Fact]
    public async Task A_chosen_baseline_replaces_the_window_before()
    {
        var ws = await app.CreateWorkspaceAsync();
        await SeedAsync(ws, Day.AddDays(-2), ("search", 4, 1m, 10));
        await SeedAsync(ws, Day, ("search", 4, 3m, 10));

        var result = await ws.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/compare?groupBy=endpointTag&from={Iso(Day)}&to={Iso(Day.AddDays(1))}&baselineFrom={Iso(Day.AddDays(-2))}&baselineTo={Iso(Day.AddDays(-1))}");

        Assert.Equal(8m, result.GetProperty("costDeltaUsd").GetDecimal());
        var bad = await ws.Client.GetAsync($"/v1/compare?baselineFrom={Iso(Day)}&baselineTo={Iso(Day.AddDays(-1))}");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Prompt_versions_side_by_side_flag_a_small_sample()
    {
        var ws = await app.CreateWorkspaceAsync();
        var events = new List<TestEvent>();
        for (var i = 0; i < 40; i++)
        {
            events.Add(Event($"a{i}", "support", "v3", 1000, 100, i % 10 == 0 ? "error" : "success", 100 + i));
        }

        for (var i = 0; i < 5; i++)
        {
            events.Add(Event($"b{i}", "support", "v4", 500, 50, "success", 50));
        }

        events.Add(Event("other", "search", "v4", 9999, 9999, "success", 1));
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events))).StatusCode);

        var result = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/compare/prompt-versions?endpointTag=support&a=v3&b=v4&range=7d");
        var a = result.GetProperty("a");
        var b = result.GetProperty("b");
        Assert.Equal((40, 1000m, 100m, 0.1m, false), (a.GetProperty("requests").GetInt32(), a.GetProperty("inputTokensPerRequest").GetDecimal(),
            a.GetProperty("outputTokensPerRequest").GetDecimal(), a.GetProperty("errorRate").GetDecimal(), a.GetProperty("tooFewRequests").GetBoolean()));
        Assert.Equal((5, 500m, true), (b.GetProperty("requests").GetInt32(), b.GetProperty("inputTokensPerRequest").GetDecimal(), b.GetProperty("tooFewRequests").GetBoolean()));
        Assert.Equal(137.0, a.GetProperty("p95LatencyMs").GetDouble(), 1.0);
        Assert.Equal(HttpStatusCode.BadRequest, (await ws.Client.GetAsync("/v1/compare/prompt-versions?a=v3")).StatusCode);
    }

    [Fact]
    public async Task The_investigate_page_shows_the_ranking_and_the_prompt_comparison()
    {
        var ws = await app.CreateWorkspaceAsync();
        await SeedAsync(ws, Day.AddDays(-1), ("search", 3, 1m, 10));
        await SeedAsync(ws, Day, ("search", 3, 5m, 10), ("chat", 2, 1m, 10));
        using var person = await DashboardUser.SignedInAsync(app, ws.Id);

        var (response, html) = await person.GetAsync($"/Dashboard/Compare?from={Iso(Day)}&to={Iso(Day.AddDays(1))}&endpointTag=search&a=v1&b=v2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(html.IndexOf("data-key=\"search\"", StringComparison.Ordinal) < html.IndexOf("data-key=\"chat\"", StringComparison.Ordinal));
        Assert.Contains("+$12.00", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Contains("data-too-few", html, StringComparison.Ordinal);
    }

    private static string Iso(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));

    private static TestEvent Event(string id, string endpoint, string version, int input, int output, string status, int latency) =>
        new() { ExternalRequestId = id, Model = "gpt-4o", EndpointTag = endpoint, PromptVersion = version, InputTokens = input, OutputTokens = output,
            Status = status, LatencyMs = latency };

    /// <summary>Events of exact, client-reported cost (an unpriced model) on one day, in the day's morning.</summary>
    private static async Task SeedAsync(TestWorkspace ws, DateTimeOffset day, params (string Endpoint, int Count, decimal Cost, int Tokens)[] groups)
    {
        var events = groups.SelectMany(g => Enumerable.Range(0, g.Count).Select(i => TestEvent.Costing(g.Cost) with
        {
            ExternalRequestId = string.Create(CultureInfo.InvariantCulture, $"{g.Endpoint}-{day:yyyyMMdd}-{i}"), EndpointTag = g.Endpoint,
            PromptVersion = "v1", InputTokens = g.Tokens, OutputTokens = 10, OccurredAt = day.AddHours(2).AddMinutes(i),
        }));
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events))).StatusCode);
    }
}
