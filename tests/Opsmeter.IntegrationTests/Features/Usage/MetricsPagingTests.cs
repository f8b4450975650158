using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Usage;

/// <summary><c>/v1/metrics</c> read a page at a time (<c>limit</c>, <c>cursor</c>) and searched: the pages add up to the whole.</summary>
[Collection(SharedApp.Name)]
public sealed class MetricsPagingTests(OpsmeterApp app)
{
    [Fact]
    public async Task Following_next_cursors_reads_every_group_once_in_order_and_the_pages_add_up_to_the_totals()
    {
        var ws = await SeededAsync();

        foreach (var query in new[]
        {
            "groupBy=userId&range=30d",                  // finished days' kept sums, today's rows and the unfolded tail
            "groupBy=userId&range=30d&model=gpt-4o",     // a dimension filter: raw events only
            "groupBy=day&range=30d",                     // time order: by key
            "groupBy=model&range=30d",
        })
        {
            var whole = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?{query}");
            Assert.False(whole.GetProperty("truncated").GetBoolean());
            Assert.Equal(JsonValueKind.Null, whole.GetProperty("nextCursor").ValueKind);

            var pages = new List<JsonElement>();
            var next = "";
            do
            {
                var page = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?{query}&limit=4{next}");
                pages.Add(page);
                var cursor = page.GetProperty("nextCursor");
                Assert.Equal(cursor.ValueKind == JsonValueKind.String, page.GetProperty("truncated").GetBoolean());
                next = cursor.ValueKind == JsonValueKind.String ? "&cursor=" + Uri.EscapeDataString(cursor.GetString()!) : "";
                Assert.True(pages.Count < 50, "the cursor does not move on");
            }
            while (next.Length > 0);

            var paged = pages.SelectMany(p => p.GetProperty("rows").EnumerateArray()).ToList();
            Assert.All(pages.SkipLast(1), p => Assert.Equal(4, p.GetProperty("rows").GetArrayLength()));
            Assert.Equal(Keys(whole.GetProperty("rows").EnumerateArray()), Keys(paged)); // same rows, same order, none twice
            var totals = whole.GetProperty("totals");
            Assert.Equal(totals.GetProperty("requests").GetInt64(), paged.Sum(r => r.GetProperty("requests").GetInt64()));
            Assert.Equal(totals.GetProperty("costUsd").GetDecimal(), paged.Sum(r => r.GetProperty("costUsd").GetDecimal()));
            Assert.All(pages, p => Assert.Equal(totals.GetRawText(), p.GetProperty("totals").GetRawText()));
        }
    }

    [Fact]
    public async Task A_search_keeps_the_groups_whose_value_contains_it_in_any_case_and_the_totals_of_all()
    {
        var ws = await SeededAsync();

        var all = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/metrics?groupBy=userId&range=30d");
        var found = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/metrics?groupBy=userId&range=30d&search=USER-1");
        var filtered = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/metrics?groupBy=userId&range=30d&search=user-1&model=gpt-4o");

        var expected = Keys(all.GetProperty("rows").EnumerateArray()).Where(k => k.Contains("user-1", StringComparison.Ordinal)).ToList();
        Assert.Equal(11, expected.Count); // user-1 and user-10 … user-19
        Assert.Equal(expected, Keys(found.GetProperty("rows").EnumerateArray()));
        Assert.Equal(all.GetProperty("totals").GetRawText(), found.GetProperty("totals").GetRawText());
        Assert.All(Keys(filtered.GetProperty("rows").EnumerateArray()), k => Assert.Contains("user-1", k, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=%00", "cursor")]
    [InlineData("search=%00", "search")]
    public async Task A_bad_limit_cursor_or_search_is_a_400_naming_the_field(string query, string field)
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.GetAsync($"/v1/metrics?groupBy=userId&{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    private static List<string> Keys(IEnumerable<JsonElement> rows) => [.. rows.Select(r => r.GetProperty("key").GetString()!)];

    /// <summary>
    /// 30 users over the last ten days (finished days folded, today's events partly not folded yet), on two models; users
    /// n and n + 15 spend the same, so the order's tie on spend is decided by the key, across page boundaries.
    /// </summary>
    private async Task<TestWorkspace> SeededAsync()
    {
        var ws = await app.CreateWorkspaceAsync();
        var now = DateTimeOffset.UtcNow;
        TestEvent Event(int n, int copy, DateTimeOffset at) => new()
        {
            ExternalRequestId = string.Create(CultureInfo.InvariantCulture, $"e{n}-{copy}-{at.Ticks}"), UserId = $"user-{n}",
            Model = n % 3 == 0 ? "gpt-4o" : "gpt-4o-mini", InputTokens = 1000 + ((n % 15) * 100), OutputTokens = 50, OccurredAt = at,
        };
        var past = Enumerable.Range(0, 30).SelectMany(n => new[] { Event(n, 0, now.AddDays(-1 - (n % 9))), Event(n, 1, now.AddDays(-2 - (n % 7))) });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(past))).StatusCode);
        await app.FoldAllAsync(ws.Id);
        var recent = Enumerable.Range(0, 30).Where(n => n % 4 == 0).Select(n => Event(n, 2, now.AddMinutes(-5)));
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(recent))).StatusCode);
        return ws;
    }
}
