using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Usage;

/// <summary>Figures read from rollups (plus the raw edges and the tail not folded in yet) equal the sums over raw events.</summary>
[Collection(SharedApp.Name)]
public sealed class RollupTests(OpsmeterApp app)
{
    private static readonly string[] Models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "mystery-model"];

    [Fact]
    public async Task Totals_and_groups_from_rollups_equal_the_raw_events_for_aligned_and_unaligned_ranges()
    {
        var ws = await app.CreateWorkspaceAsync();
        var now = DateTimeOffset.UtcNow;
        await IngestAsync(ws, now, "a", 300);
        // Accepted a few minutes ahead: folded into this week's rows, and outside every range below.
        var ahead = await ws.Client.PostAsync("/v1/ingest",
            new TestEvent { ExternalRequestId = "ahead", Model = "gpt-4o", TenantId = "t1", OccurredAt = now.AddMinutes(3) }.Content());
        ahead.EnsureSuccessStatusCode();
        await app.FoldAllAsync(ws.Id);
        await IngestAsync(ws, now, "b", 60); // the tail: not folded in yet

        var aligned = now.AddDays(-20).Date;
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var ranges = new (DateTimeOffset From, DateTimeOffset To)[]
        {
            (new DateTimeOffset(aligned, TimeSpan.Zero), new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero)),
            (now.AddDays(-9).AddMinutes(-17), now.AddMinutes(1)),
            (now.AddHours(-30).AddMinutes(-3), now.AddHours(-2).AddMinutes(7)),
            (now.AddDays(-24).AddHours(-5), now), // whole weeks of tenant rows between whole days and raw edges
            (today.AddDays(-10).AddHours(3), today.AddDays(-1).AddHours(21)), // tenant edge days: daily rows less the hours outside
            (today.AddDays(-12).AddHours(21), today.AddDays(-2).AddHours(3)), // tenant edge days: the hours inside, raw
        };
        foreach (var (from, to) in ranges)
        {
            var query = $"from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";
            var metrics = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy=model&{query}");
            var byTenant = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy=tenantId&{query}");
            var raw = await app.WithDbAsync(db => db.LlmRequests
                .Where(r => r.WorkspaceId == ws.Id && r.OccurredAt >= from && r.OccurredAt < to && r.DataMode == "real")
                .GroupBy(r => r.Model)
                .Select(g => new { Model = g.Key, Requests = g.Count(), Cost = g.Sum(r => r.CostUsd), Errors = g.Count(r => r.Status == "error"), Input = g.Sum(r => r.InputTokens) })
                .ToListAsync());

            var rawTenants = await app.WithDbAsync(db => db.LlmRequests
                .Where(r => r.WorkspaceId == ws.Id && r.OccurredAt >= from && r.OccurredAt < to && r.DataMode == "real")
                .GroupBy(r => r.TenantId)
                .Select(g => new { Tenant = g.Key, Requests = g.Count(), Cost = g.Sum(r => r.CostUsd) })
                .ToListAsync());

            var totals = metrics.GetProperty("totals");
            // tenantId is rolled up by day and week only: its edges are whole days read raw, and the sums still agree.
            Assert.Equal(
                rawTenants.OrderBy(t => t.Tenant).Select(t => (t.Tenant, t.Requests, t.Cost)),
                byTenant.GetProperty("rows").EnumerateArray()
                    .Select(r => (Tenant: r.GetProperty("key").GetString(), Requests: r.GetProperty("requests").GetInt32(), Cost: r.GetProperty("costUsd").GetDecimal()))
                    .OrderBy(t => t.Tenant));
            Assert.Equal(raw.Sum(r => r.Requests), totals.GetProperty("requests").GetInt32());
            Assert.Equal(raw.Sum(r => r.Cost), totals.GetProperty("costUsd").GetDecimal());
            Assert.Equal(raw.Sum(r => r.Input), totals.GetProperty("inputTokens").GetInt64());
            var rows = metrics.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!);
            Assert.Equal(raw.Count, rows.Count);
            foreach (var model in raw)
            {
                Assert.Equal((model.Requests, model.Cost, model.Errors),
                    (rows[model.Model].GetProperty("requests").GetInt32(), rows[model.Model].GetProperty("costUsd").GetDecimal(), rows[model.Model].GetProperty("errors").GetInt32()));
            }
        }

        Assert.True(await app.WithDbAsync(db => db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM usage_rollups WHERE workspace_id = {ws.Id}").SingleAsync()) > 0);
    }

    [Fact]
    public async Task Users_and_tenants_over_months_from_rollups_equal_the_raw_events()
    {
        var ws = await app.CreateWorkspaceAsync();
        await app.KeepRawEventsAsync(ws.Id, days: 120); // ingest accepts events as old as the workspace's raw retention
        var now = DateTimeOffset.UtcNow;
        await IngestAsync(ws, now, "m", 400, days: 95);
        await app.FoldAllAsync(ws.Id);
        await IngestAsync(ws, now, "n", 40, days: 95); // the tail: not folded in yet

        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        // Over 62 days each, so each holds a whole calendar month: monthly rows, with weeks, days and edges around them.
        var ranges = new (DateTimeOffset From, DateTimeOffset To)[]
        {
            (today.AddDays(-80).AddHours(5), today.AddDays(-3).AddHours(19)),
            (today.AddDays(-85).AddHours(20), today.AddDays(-2).AddHours(2)),
            (now.AddDays(-90), now.AddMinutes(1)),
        };
        foreach (var (from, to) in ranges)
        {
            var query = $"from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";
            var byTenant = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy=tenantId&{query}");
            var raw = await app.WithDbAsync(db => db.LlmRequests
                .Where(r => r.WorkspaceId == ws.Id && r.OccurredAt >= from && r.OccurredAt < to && r.DataMode == "real")
                .GroupBy(r => r.TenantId)
                .Select(g => new { Tenant = g.Key, Requests = g.Count(), Cost = g.Sum(r => r.CostUsd), Errors = g.Count(r => r.Status == "error") })
                .ToListAsync());

            Assert.Equal(
                raw.OrderBy(t => t.Tenant).Select(t => (t.Tenant, t.Requests, t.Cost, t.Errors)),
                byTenant.GetProperty("rows").EnumerateArray()
                    .Select(r => (Tenant: r.GetProperty("key").GetString(), Requests: r.GetProperty("requests").GetInt32(),
                        Cost: r.GetProperty("costUsd").GetDecimal(), Errors: r.GetProperty("errors").GetInt32()))
                    .OrderBy(t => t.Tenant));
        }

        Assert.True(await app.WithDbAsync(db => db.Database.SqlQuery<int>(
            $"SELECT count(*)::int AS \"Value\" FROM usage_rollups WHERE workspace_id = {ws.Id} AND period = 'm'").SingleAsync()) > 0);
    }

    [Fact]
    public async Task The_p95_from_rollups_is_within_its_latency_bucket()
    {
        var ws = await app.CreateWorkspaceAsync();
        var now = DateTimeOffset.UtcNow;
        var events = Enumerable.Range(1, 100).Select(i => new TestEvent { ExternalRequestId = $"p{i}", Model = "gpt-4o", LatencyMs = i * 10, OccurredAt = now.AddDays(-3) });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events))).StatusCode);
        await app.FoldAllAsync(ws.Id);

        var totals = (await ws.Client.GetFromJsonAsync<JsonElement>("/v1/metrics?range=7d")).GetProperty("totals");

        // Exact p95 of 10..1000 ms is 950.5; the rollup reads it from the 750–1000 ms bucket.
        Assert.InRange(totals.GetProperty("p95LatencyMs").GetDouble(), 750, 1000);
        Assert.Equal(505, totals.GetProperty("avgLatencyMs").GetDouble());
    }

    [Fact]
    public async Task Kept_sums_of_finished_days_follow_late_events_and_deleted_test_data()
    {
        // Finished days' rollup sums are kept per workspace generation (UsageRollupQueries.KeptSumsAsync): every change to
        // those rows must reach the figures, however many times the same window was read before.
        var ws = await app.CreateWorkspaceAsync();
        var now = DateTimeOffset.UtcNow;
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        await IngestAsync(ws, now.AddDays(-3), "k", 200, days: 10);
        await app.FoldAllAsync(ws.Id);
        var window = $"from={Uri.EscapeDataString(today.AddDays(-20).ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(now.ToString("O", CultureInfo.InvariantCulture))}";

        async Task AgreesWithRawAsync(string dataMode)
        {
            foreach (var groupBy in new[] { "model", "userId", "day" })
            {
                var metrics = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy={groupBy}&dataMode={dataMode}&{window}");
                var raw = await app.WithDbAsync(db => db.LlmRequests
                    .Where(r => r.WorkspaceId == ws.Id && r.OccurredAt >= today.AddDays(-20) && r.OccurredAt < now && r.DataMode == dataMode)
                    .GroupBy(_ => 1).Select(g => new { Requests = g.Count(), Cost = g.Sum(r => r.CostUsd) }).SingleOrDefaultAsync());
                Assert.Equal((raw?.Requests ?? 0, raw?.Cost ?? 0), (metrics.GetProperty("totals").GetProperty("requests").GetInt32(),
                    metrics.GetProperty("totals").GetProperty("costUsd").GetDecimal()));
                Assert.Equal(raw?.Requests ?? 0, metrics.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("requests").GetInt32()));
            }
        }

        await AgreesWithRawAsync("real"); // reads the finished days and keeps their sums
        await AgreesWithRawAsync("real"); // from the kept sums

        // A late event for a finished day: counted from the raw tail first, then from the day's rows once folded.
        var late = new TestEvent { ExternalRequestId = "late", Model = "gpt-4o", UserId = "late-user", InputTokens = 1000, OccurredAt = today.AddDays(-6).AddHours(5) };
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest", late.Content())).StatusCode);
        await AgreesWithRawAsync("real");
        await app.FoldAllAsync(ws.Id);
        await AgreesWithRawAsync("real");

        // Test data of finished days, kept, then deleted with its rollups.
        var tests = Enumerable.Range(0, 30).Select(i => new TestEvent
        {
            ExternalRequestId = $"t{i}", Model = "gpt-4o", UserId = $"u{i % 4}", DataMode = "test", OccurredAt = today.AddDays(-4 - (i % 5)).AddHours(3),
        });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(tests))).StatusCode);
        await app.FoldAllAsync(ws.Id);
        await AgreesWithRawAsync("test");
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.DeleteAsync("/v1/ingest/test-data")).StatusCode);
        await AgreesWithRawAsync("test");
    }

    [Fact]
    public async Task Windows_hours_apart_share_kept_runs_of_rollup_rows_and_each_equals_the_raw_events()
    {
        // A preset's start moves with the present: runs of rollup rows are kept on their own (UsageQueries.KeptSumsAsync),
        // so a later window is added up from runs an earlier one read and its own raw edge.
        var ws = await app.CreateWorkspaceAsync();
        var now = DateTimeOffset.UtcNow;
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var random = new Random(7);
        var events = Enumerable.Range(0, 600).Select(i => new TestEvent
        {
            ExternalRequestId = $"s{i}", Model = Models[i % 4], UserId = $"u{i % 37}", TenantId = $"t{i % 5}", InputTokens = random.Next(1, 5000),
            OccurredAt = today.AddDays(-9).AddMinutes(random.Next(0, 8 * 24 * 60)),
        });
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events))).StatusCode);
        await app.FoldAllAsync(ws.Id);

        foreach (var hours in new[] { 0, 1, 2, 5, 1, 13, 14 })
        {
            var from = today.AddDays(-8).AddHours(hours).AddMinutes(17);
            var query = $"from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(now.ToString("O", CultureInfo.InvariantCulture))}";
            foreach (var groupBy in new[] { "userId", "tenantId", "model" })
            {
                var metrics = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy={groupBy}&{query}");
                var raw = await app.WithDbAsync(db => db.LlmRequests
                    .Where(r => r.WorkspaceId == ws.Id && r.OccurredAt >= from && r.OccurredAt < now)
                    .GroupBy(r => groupBy == "userId" ? r.UserId : groupBy == "tenantId" ? r.TenantId : r.Model)
                    .Select(g => new { Key = g.Key, Requests = g.Count(), Cost = g.Sum(r => r.CostUsd), Input = g.Sum(r => r.InputTokens) })
                    .ToListAsync());
                Assert.Equal(
                    raw.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Requests, r.Cost, r.Input)),
                    metrics.GetProperty("rows").EnumerateArray()
                        .Select(r => (Key: r.GetProperty("key").GetString(), Requests: r.GetProperty("requests").GetInt32(),
                            Cost: r.GetProperty("costUsd").GetDecimal(), Input: r.GetProperty("inputTokens").GetInt64()))
                        .OrderBy(r => r.Key, StringComparer.Ordinal));
            }
        }
    }

    [Fact]
    public async Task The_tail_is_read_from_the_oldest_event_not_folded_in_yet_wherever_it_lies()
    {
        // Queries read events not folded in yet from the oldest one's time on (rollup_pending, kept by a trigger on
        // llm_requests): a late event of any day must be counted before the fold (events re-pricing has just changed: RepriceTests).
        var ws = await app.CreateWorkspaceAsync();
        var now = DateTimeOffset.UtcNow;
        await IngestAsync(ws, now, "p", 40, days: 3);
        await app.FoldAllAsync(ws.Id);
        Assert.Equal(0, await PendingAsync(ws.Id)); // folded: nothing left to read raw

        var window = $"from={Uri.EscapeDataString(now.AddDays(-28).ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(now.AddMinutes(1).ToString("O", CultureInfo.InvariantCulture))}";
        async Task<int> RequestsAsync(string groupBy) =>
            (await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy={groupBy}&{window}")).GetProperty("totals").GetProperty("requests").GetInt32();
        Assert.Equal(40, await RequestsAsync("model"));

        var late = new TestEvent { ExternalRequestId = "late-20", Model = "gpt-4o", UserId = "late", OccurredAt = now.AddDays(-20) };
        Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest", late.Content())).StatusCode);
        Assert.Equal(1, await PendingAsync(ws.Id));
        Assert.Equal(41, await RequestsAsync("model"));
        Assert.Equal(41, await RequestsAsync("userId"));

        await app.FoldAllAsync(ws.Id);
        Assert.Equal(0, await PendingAsync(ws.Id));
        Assert.Equal(41, await RequestsAsync("userId"));
    }

    /// <summary>The workspace's registered statements whose events the rollups do not hold yet.</summary>
    private Task<int> PendingAsync(Guid workspaceId) => app.WithDbAsync(db => db.Database.SqlQuery<int>($"""
        SELECT count(*)::int AS "Value" FROM rollup_pending
        WHERE workspace_id = {workspaceId} AND ingest_xid >= (SELECT processed_below_xid FROM rollup_state WHERE name = 'usage')
        """).SingleAsync());

    private static async Task IngestAsync(TestWorkspace ws, DateTimeOffset now, string prefix, int count, int days = 25)
    {
        var random = new Random(count);
        var events = Enumerable.Range(0, count).Select(i => new TestEvent
        {
            ExternalRequestId = $"{prefix}{i}", Provider = i % 4 == 2 ? "anthropic" : "openai", Model = Models[i % 4], EndpointTag = $"e{i % 3}",
            TenantId = $"t{i % 5}", InputTokens = random.Next(1, 5000), OutputTokens = random.Next(1, 500), LatencyMs = random.Next(50, 5000),
            Status = i % 9 == 0 ? "error" : "success", OccurredAt = now.AddMinutes(-random.Next(0, days * 24 * 60)),
        }).ToList();
        var response = await ws.Client.PostAsync("/v1/ingest/batch", TestEvent.Batch(events));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync()); // every event stored
    }
}
