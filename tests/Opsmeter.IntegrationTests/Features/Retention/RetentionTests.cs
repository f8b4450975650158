using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Retention;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Retention;

/// <summary>
/// The nightly purge, on an app and database of its own (it drops partitions, which would take other tests' days with it).
/// The job runs on a fake clock set to today noon; the events are real, ingested through the API.
/// </summary>
public sealed class RetentionTests : IAsyncLifetime, IDisposable
{
    private readonly OpsmeterApp app = new();
    private readonly DateTimeOffset noon = new(DateTime.UtcNow.Date.AddHours(12), TimeSpan.Zero);

    public Task InitializeAsync() => app.InitializeAsync();

    public Task DisposeAsync() => app.DisposeAsync();

    public void Dispose() => app.Dispose();

    [Fact]
    public async Task Expired_days_are_dropped_whole_shorter_retention_is_deleted_by_key_and_daily_rollups_stay()
    {
        var a = await app.CreateWorkspaceAsync();
        var b = await app.CreateWorkspaceAsync();
        // Sent while the default 30 days applied; the shorter retention comes after (ingest refuses events older than it).
        await IngestAsync(a, "a-15d", noon.AddDays(-15), 1.5m);
        await IngestAsync(a, "a-8d", noon.AddDays(-8), 2m);
        await IngestAsync(b, "b-5d", noon.AddDays(-5), 1m);
        await IngestAsync(b, "b-just-expired", noon.AddDays(-3).AddMilliseconds(-1), 1m);
        await IngestAsync(b, "b-boundary", noon.AddDays(-3), 1m);
        await IngestAsync(b, "b-1d", noon.AddDays(-1), 1m);
        await app.FoldAllAsync(a.Id);
        await app.FoldAllAsync(b.Id);
        await SetRetentionAsync(others: 10, (a.Id, 10), (b.Id, 3));

        var report = await PurgeAsync(noon);

        Assert.Contains($"llm_requests_p{noon.AddDays(-15):yyyyMMdd}", report.PartitionsDropped);
        Assert.DoesNotContain($"llm_requests_p{noon.AddDays(-8):yyyyMMdd}", report.PartitionsDropped);
        Assert.Equal(["a-8d"], await StoredAsync(a));
        Assert.Equal(["b-1d", "b-boundary"], await StoredAsync(b));
        Assert.True(await PartitionExistsAsync(noon.AddDays(PartitionMaintenance.DaysAhead)));
        Assert.False(await PartitionExistsAsync(noon.AddDays(-15)));

        // The dropped day is still in the figures: its daily rollups stay for 400 days.
        var day = new DateTimeOffset(noon.AddDays(-15).UtcDateTime.Date, TimeSpan.Zero);
        var metrics = await a.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/metrics?groupBy=model&from={Iso(day)}&to={Iso(day.AddDays(1))}");
        Assert.Equal(1.5m, metrics.GetProperty("totals").GetProperty("costUsd").GetDecimal());

        // Where retention removed part of an edge day, the tenant table still agrees with the totals: that day is read
        // raw, not as its daily row less events that are gone.
        var query = $"from={Iso(new DateTimeOffset(noon.AddDays(-3).UtcDateTime.Date.AddHours(6), TimeSpan.Zero))}&to={Iso(DateTimeOffset.UtcNow.AddMinutes(1))}";
        var byTenant = await b.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy=tenantId&{query}");
        Assert.Equal(2m, byTenant.GetProperty("totals").GetProperty("costUsd").GetDecimal());
        Assert.Equal(2m, byTenant.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("costUsd").GetDecimal()));

        // Retried after its event was purged, an event is not stored again: it is older than the workspace keeps (and its
        // key outlives it by a week besides, for a retry that a retention change on another node let through).
        var retry = await b.Client.PostAsync("/v1/ingest", Json(Event("b-5d", noon.AddDays(-5), 1m)));
        Assert.Equal(HttpStatusCode.BadRequest, retry.StatusCode);
        Assert.Contains("raw retention of 3 days", await retry.Content.ReadAsStringAsync());
        Assert.Equal(["b-1d", "b-boundary"], await StoredAsync(b));

        // Run again the same night: nothing left to do.
        var again = await PurgeAsync(noon);
        Assert.Equal((0, 0L, 0L), (again.PartitionsDropped.Count, again.EventsDeleted, again.KeysDeleted));
    }

    [Fact]
    public async Task Old_keys_go_a_week_after_their_events_and_a_late_event_gets_a_partition_of_its_own()
    {
        var ws = await app.CreateWorkspaceAsync();
        await SetRetentionAsync(others: 30, (ws.Id, 500));
        await IngestAsync(ws, "late", noon.AddDays(-400), 3m); // a backfilled event a year back, inside retention: stored, in a day of its own
        Assert.True(await PartitionExistsAsync(noon.AddDays(-400)));
        await SetRetentionAsync(others: 30, (ws.Id, 30));

        // 38 days later the event is expired and its key (received today) past the week of grace.
        var report = await PurgeAsync(noon.AddDays(38));
        Assert.Contains($"llm_requests_p{noon.AddDays(-400):yyyyMMdd}", report.PartitionsDropped);
        Assert.Empty(await StoredAsync(ws));
        Assert.Equal(0, await app.WithDbAsync(db => db.IngestKeys.CountAsync(k => k.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Ingest_keeps_committing_while_a_purge_drops_partitions()
    {
        var old = await app.CreateWorkspaceAsync();
        var live = await app.CreateWorkspaceAsync();
        for (var d = 6; d <= 12; d++)
        {
            var batch = string.Join(",", Enumerable.Range(0, 200).Select(i => Event($"old-{d}-{i}", noon.AddDays(-d).AddMinutes(i), 0.01m)));
            var stored = await old.Client.PostAsync("/v1/ingest/batch", Json($$"""{"events":[{{batch}}]}"""));
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        }

        await SetRetentionAsync(others: 5);

        using var stop = new CancellationTokenSource();
        var acknowledged = 0;
        var failures = new List<string>();
        async Task Writer(int w)
        {
            for (var i = 0; !stop.IsCancellationRequested || i < 20; i++)
            {
                var response = await live.Client.PostAsync("/v1/ingest", Json(Event($"live-{w}-{i}", DateTimeOffset.UtcNow, 0.01m)));
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref acknowledged);
                }
                else
                {
                    var failure = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                    lock (failures)
                    {
                        failures.Add(failure);
                    }
                }
            }
        }

        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(() => Writer(w))).ToArray();
        var report = await PurgeAsync(noon);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Assert.Empty(failures);
        // The old workspace's seven days are dropped whole (with the empty days start-up made for the then 30-day window), today's is not.
        Assert.All(Enumerable.Range(6, 7), d => Assert.Contains($"llm_requests_p{noon.AddDays(-d):yyyyMMdd}", report.PartitionsDropped));
        Assert.DoesNotContain($"llm_requests_p{noon:yyyyMMdd}", report.PartitionsDropped);
        Assert.Empty(await StoredAsync(old));
        Assert.Equal(acknowledged, (await StoredAsync(live)).Count);
    }

    private async Task<RetentionReport> PurgeAsync(DateTimeOffset now)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var job = ActivatorUtilities.CreateInstance<RetentionJob>(scope.ServiceProvider, new FakeTimeProvider(now));
        return await job.PurgeAsync(CancellationToken.None);
    }

    private Task<int> SetRetentionAsync(int others, params (Guid Id, int Days)[] workspaces) => app.WithDbAsync(async db =>
    {
        await db.Workspaces.ExecuteUpdateAsync(s => s.SetProperty(w => w.RawRetentionDays, others));
        foreach (var (id, days) in workspaces)
        {
            await db.Workspaces.Where(w => w.Id == id).ExecuteUpdateAsync(s => s.SetProperty(w => w.RawRetentionDays, days));
        }

        // As the Settings page does: ingest applies the new retention at once.
        app.Services.GetRequiredService<RawRetention>().Invalidate();

        return 0;
    });

    private Task<List<string>> StoredAsync(TestWorkspace ws) => app.WithDbAsync(db =>
        db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).Select(r => r.ExternalRequestId).OrderBy(id => id).ToListAsync());

    private Task<bool> PartitionExistsAsync(DateTimeOffset day) => app.WithDbAsync(db =>
        db.Database.SqlQuery<bool>($"SELECT to_regclass({"llm_requests_p" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}) IS NOT NULL AS \"Value\"").SingleAsync());

    private static async Task IngestAsync(TestWorkspace ws, string id, DateTimeOffset at, decimal cost) =>
        (await ws.Client.PostAsync("/v1/ingest", Json(Event(id, at, cost)))).EnsureSuccessStatusCode();

    private static string Event(string id, DateTimeOffset at, decimal cost) =>
        (TestEvent.Costing(cost) with { ExternalRequestId = id, InputTokens = 1, OutputTokens = 1, OccurredAt = at }).Json();

    private static string Iso(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));
}
