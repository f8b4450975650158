using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Exports;

[Collection(SharedApp.Name)]
public sealed class ExportTests(OpsmeterApp app)
{
    private static readonly string[] TrickyValues =
    [
        "plain", "comma, inside", "quote \" inside", "line\nbreak", "crlf\r\nbreak", "ünïcødé 日本語 🚀",
        "=HYPERLINK(\"http://evil.test\")", "+1+1", "-2+3", "@SUM(A1)", "\ttabbed",
    ];

    [Fact]
    public async Task Requests_csv_round_trips_quotes_commas_newlines_unicode_and_neutralises_formulas()
    {
        var ws = await app.CreateWorkspaceAsync();
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        for (var i = 0; i < TrickyValues.Length; i++)
        {
            var body = JsonSerializer.Serialize(new
            {
                externalRequestId = $"csv-{i}", provider = "openai", model = "gpt-4o", endpointTag = TrickyValues[i], userId = TrickyValues[^(i + 1)],
                inputTokens = 1000 + i, outputTokens = 10, latencyMs = 100 + i, status = "success", occurredAt = at.AddSeconds(i),
            });
            (await ws.Client.PostAsync("/v1/ingest", Json(body))).EnsureSuccessStatusCode();
        }

        var response = await ws.Client.GetAsync("/v1/exports/requests.csv?range=24h");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches("opsmeter-test-[0-9a-f]{32}-requests-\\d{8}T\\d{4}-\\d{8}T\\d{4}\\.csv", response.Content.Headers.ContentDisposition?.FileName);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Contains("\r\n", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal); // RFC 4180 line endings

        using var reader = CsvReader.Create(bytes, CsvReaderOptions.Default);
        var rows = new List<Dictionary<string, string>>();
        while (reader.Read())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(i => CsvColumns[i], reader.GetString));
        }

        Assert.Equal(TrickyValues.Length, rows.Count);
        for (var i = 0; i < TrickyValues.Length; i++)
        {
            var row = rows[i];
            Assert.Equal($"csv-{i}", row["externalRequestId"]);
            Assert.Equal(Neutralised(TrickyValues[i]), row["endpointTag"]);
            Assert.Equal(Neutralised(TrickyValues[^(i + 1)]), row["userId"]);
            Assert.Equal((1000 + i).ToString(CultureInfo.InvariantCulture), row["inputTokens"]);
            Assert.Equal(at.AddSeconds(i).UtcDateTime, DateTimeOffset.Parse(row["occurredAt"], CultureInfo.InvariantCulture).UtcDateTime, TimeSpan.FromMilliseconds(1));
            Assert.Equal("priced", row["costStatus"]);
        }

        Assert.Equal("'=HYPERLINK(\"http://evil.test\")", rows[6]["endpointTag"]);
    }

    [Fact]
    public async Task Summary_totals_equal_the_metrics_api_to_the_cent_and_rows_add_up()
    {
        var ws = await app.CreateWorkspaceAsync();
        var events = Enumerable.Range(0, 120).Select(i => new TestEvent
        {
            ExternalRequestId = $"s{i}", Model = i % 3 == 0 ? "gpt-4o" : "gpt-4o-mini", EndpointTag = $"e{i % 7}", TenantId = $"t{i % 5}",
            InputTokens = 1000 + (i * 37), OutputTokens = 50 + i, Status = i % 11 == 0 ? "error" : "success", LatencyMs = 200 + i,
            OccurredAt = DateTimeOffset.UtcNow.AddHours(-i % 40),
        });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events))).StatusCode);

        foreach (var groupBy in new[] { "endpointTag", "tenantId", "model", "day" })
        {
            var metrics = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?range=7d&groupBy={groupBy}");
            var csv = await ws.Client.GetByteArrayAsync($"/v1/exports/summary.csv?range=7d&groupBy={groupBy}");
            using var reader = CsvReader.Create(csv, CsvReaderOptions.Default);
            var rows = new List<(string Key, decimal Cost, long Requests)>();
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), decimal.Parse(reader.GetString(5), CultureInfo.InvariantCulture), long.Parse(reader.GetString(1), CultureInfo.InvariantCulture)));
            }

            var total = rows[^1];
            Assert.Equal("(total)", total.Key);
            Assert.Equal(metrics.GetProperty("totals").GetProperty("costUsd").GetDecimal(), total.Cost);
            Assert.Equal(metrics.GetProperty("totals").GetProperty("requests").GetInt64(), total.Requests);
            Assert.Equal(total.Cost, rows[..^1].Sum(r => r.Cost));
            Assert.Equal(metrics.GetProperty("rows").GetArrayLength(), rows.Count - 1);
        }
    }

    [Fact]
    public async Task The_finance_pack_has_each_dimension_adding_up_to_the_month()
    {
        var ws = await app.CreateWorkspaceAsync();
        var lastMonth = new DateTimeOffset(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-1);
        await app.KeepRawEventsAsync(ws.Id, days: 70); // last month's events can be older than the default 30 days
        var events = Enumerable.Range(0, 30).Select(i => new TestEvent
        {
            ExternalRequestId = $"f{i}", Provider = "anthropic", Model = "claude-sonnet-4-5", EndpointTag = $"e{i % 3}", TenantId = $"t{i % 4}",
            InputTokens = 2000 + i, OutputTokens = 100, OccurredAt = lastMonth.AddDays(i % 27).AddHours(5),
        });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events))).StatusCode);

        var csv = await ws.Client.GetByteArrayAsync($"/v1/exports/finance-pack.csv?month={lastMonth:yyyy-MM}");
        using var reader = CsvReader.Create(csv, CsvReaderOptions.Default);
        var rows = new List<(string Dimension, string Key, decimal Cost)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(1), reader.GetString(2), decimal.Parse(reader.GetString(6), CultureInfo.InvariantCulture)));
        }

        var expected = await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).SumAsync(r => r.CostUsd));
        foreach (var dimension in new[] { "endpointTag", "tenantId", "model" })
        {
            var section = rows.Where(r => r.Dimension == dimension).ToList();
            Assert.Equal(expected, section.Single(r => r.Key == "(total)").Cost);
            Assert.Equal(expected, section.Where(r => r.Key != "(total)").Sum(r => r.Cost));
        }

        Assert.Equal(4, rows.Count(r => r.Dimension == "tenantId" && r.Key != "(total)"));
        Assert.Equal(HttpStatusCode.BadRequest, (await ws.Client.GetAsync("/v1/exports/finance-pack.csv?month=2026-13")).StatusCode);
    }

    [Fact]
    public async Task Exports_need_the_read_scope_and_answer_field_errors_before_streaming()
    {
        var ingestOnly = await app.CreateWorkspaceAsync("ingest");
        var reader = await app.CreateWorkspaceAsync("read");
        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.Client.GetAsync("/v1/exports/requests.csv")).StatusCode);
        var bad = await reader.Client.GetAsync("/v1/exports/summary.csv?groupBy=color&from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("groupBy", out _) && errors.TryGetProperty("from", out _));
        var empty = await reader.Client.GetStringAsync("/v1/exports/requests.csv");
        Assert.Equal(string.Join(",", CsvColumns) + "\r\n", empty);
    }

    private static readonly string[] CsvColumns = Web.Features.Exports.CsvExports.RequestColumns;

    private static string Neutralised(string value) => value.Length > 0 && "=+-@\t\r".Contains(value[0], StringComparison.Ordinal) ? "'" + value : value;
}
