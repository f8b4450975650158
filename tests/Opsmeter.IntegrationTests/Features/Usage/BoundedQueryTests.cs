using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Usage;

/// <summary>An app with small bounds (30 days, 5 groups), so that "more than the maximum" takes a handful of events.</summary>
public sealed class BoundedApp : IAsyncLifetime
{
    public const int MaxGroups = 5;

    internal OpsmeterApp App { get; } = new(new Dictionary<string, string>
    {
        ["Opsmeter:Queries:MaxRangeDays"] = "30",
        ["Opsmeter:Queries:MaxGroups"] = MaxGroups.ToString(CultureInfo.InvariantCulture),
        ["Opsmeter:Queries:ExportTimeout"] = "00:00:03",
    });

    public Task InitializeAsync() => App.InitializeAsync();

    public Task DisposeAsync() => App.DisposeAsync();
}

/// <summary>Ranges, groups and downloads are bounded: a 400 naming the maximum, <c>truncated</c> with exact totals, and a timeout.</summary>
public sealed class BoundedQueryTests(BoundedApp bounded) : IClassFixture<BoundedApp>
{
    private static readonly DateTimeOffset Day = new(DateTime.UtcNow.Date.AddDays(-3), TimeSpan.Zero);

    private OpsmeterApp App => bounded.App;

    [Theory]
    [InlineData("/v1/metrics?groupBy=model&from={0}&to={1}", "from")]
    [InlineData("/v1/compare?groupBy=model&from={0}&to={1}", "from")]
    [InlineData("/v1/compare?groupBy=model&baselineFrom={0}&baselineTo={1}", "baselineFrom")]
    [InlineData("/v1/compare/prompt-versions?endpointTag=e&a=v1&b=v2&from={0}&to={1}", "from")]
    [InlineData("/v1/exports/requests.csv?from={0}&to={1}", "from")]
    [InlineData("/v1/exports/summary.csv?groupBy=model&from={0}&to={1}", "from")]
    public async Task A_range_longer_than_the_maximum_is_refused_with_400_naming_the_maximum(string route, string field)
    {
        var ws = await App.CreateWorkspaceAsync("read");
        var to = DateTimeOffset.UtcNow;

        var tooLong = await ws.Client.GetAsync(string.Format(CultureInfo.InvariantCulture, route, Iso(to.AddDays(-31)), Iso(to)));
        var longest = await ws.Client.GetAsync(string.Format(CultureInfo.InvariantCulture, route, Iso(to.AddDays(-30)), Iso(to)));

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("application/problem+json", tooLong.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await tooLong.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("at most 30 days", problem.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, longest.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&model=house-model")] // a dimension filter: read from raw events, not rollups
    public async Task Metrics_over_more_groups_than_the_cap_answer_the_largest_with_truncated_and_totals_of_every_event(string filter)
    {
        var ws = await App.CreateWorkspaceAsync();
        // Twelve endpoints costing $1 … $12 each: the five largest are e12 … e8; all of them together cost $78.
        await SeedAsync(ws, Day, [.. Enumerable.Range(1, 12).Select(i => ($"e{i:00}", 1, (decimal)i))]);
        await App.FoldAllAsync(ws.Id);

        var metrics = await ws.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/metrics?groupBy=endpointTag&from={Iso(Day)}&to={Iso(Day.AddDays(1))}{filter}");
        var few = await ws.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/metrics?groupBy=model&from={Iso(Day)}&to={Iso(Day.AddDays(1))}{filter}");

        Assert.True(metrics.GetProperty("truncated").GetBoolean());
        Assert.Equal(["e12", "e11", "e10", "e09", "e08"], metrics.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetString()));
        Assert.Equal(78m, metrics.GetProperty("totals").GetProperty("costUsd").GetDecimal());
        Assert.Equal(12, metrics.GetProperty("totals").GetProperty("requests").GetInt32());
        Assert.False(few.GetProperty("truncated").GetBoolean());
        Assert.Single(few.GetProperty("rows").EnumerateArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("&model=house-model")]
    public async Task Compare_is_ranked_and_cut_in_the_database_with_truncated_and_exact_totals(string filter)
    {
        var ws = await App.CreateWorkspaceAsync();
        // Before: e00 … e07 at $10 each. Now: e0i at $(7 + i), e04 gone, e08 new. Changes: e08 +15, e04 −10, e07 +4, e00 −3 and
        // e06 +3 (equal: by key), then e01 −2, e05 +2, e02 −1, e03 0, which the cap of five leaves out.
        await SeedAsync(ws, Day.AddDays(-1), [.. Enumerable.Range(0, 8).Select(i => ($"e{i:00}", 1, 10m))]);
        await SeedAsync(ws, Day, [.. Enumerable.Range(0, 9).Where(i => i != 4).Select(i => ($"e{i:00}", 1, 7m + i))]);
        await App.FoldAllAsync(ws.Id);

        var result = await ws.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/compare?groupBy=endpointTag&from={Iso(Day)}&to={Iso(Day.AddDays(1))}{filter}");

        Assert.True(result.GetProperty("truncated").GetBoolean());
        var rows = result.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["e08", "e04", "e07", "e00", "e06"], rows.Select(r => r.GetProperty("key").GetString()));
        Assert.Equal(0m, rows[0].GetProperty("baseline").GetProperty("costUsd").GetDecimal()); // new in the current window
        Assert.Equal(15m, rows[0].GetProperty("costDeltaUsd").GetDecimal());
        Assert.Equal(0m, rows[1].GetProperty("current").GetProperty("costUsd").GetDecimal()); // gone from it
        Assert.Equal(-10m, rows[1].GetProperty("costDeltaUsd").GetDecimal());
        // Every endpoint counts in the totals, the cut ones too: 7 + 8 + … + 15 less e04's 11 now, 8 × $10 before.
        Assert.Equal(88m, result.GetProperty("current").GetProperty("costUsd").GetDecimal());
        Assert.Equal(80m, result.GetProperty("baseline").GetProperty("costUsd").GetDecimal());
        Assert.Equal(8m, result.GetProperty("costDeltaUsd").GetDecimal());
    }

    [Fact]
    public async Task Summary_csv_holds_every_group_however_many_past_the_cap()
    {
        var ws = await App.CreateWorkspaceAsync();
        await SeedAsync(ws, Day, [.. Enumerable.Range(1, 12).Select(i => ($"e{i:00}", 1, (decimal)i))]);

        var csv = await ws.Client.GetStringAsync($"/v1/exports/summary.csv?groupBy=endpointTag&from={Iso(Day)}&to={Iso(Day.AddDays(1))}");

        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 12 + 1, lines.Length); // header, every endpoint, (total)
        Assert.StartsWith("(total),12,", lines[^1], StringComparison.Ordinal);
    }

    internal static string Iso(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>Events of exact, client-reported cost (an unpriced model) on one day, in the day's morning.</summary>
    internal static async Task SeedAsync(TestWorkspace ws, DateTimeOffset day, params (string Endpoint, int Count, decimal Cost)[] groups)
    {
        var events = groups.SelectMany(g => Enumerable.Range(0, g.Count).Select(i => TestEvent.Costing(g.Cost) with
        {
            ExternalRequestId = string.Create(CultureInfo.InvariantCulture, $"{g.Endpoint}-{day:yyyyMMdd}-{i}"), EndpointTag = g.Endpoint,
            OccurredAt = day.AddHours(2).AddMinutes(i),
        }));
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events))).StatusCode);
    }
}
