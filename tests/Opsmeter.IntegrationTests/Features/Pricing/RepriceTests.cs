using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Repricing;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Pricing;

/// <summary><c>pricing:reprice</c>: a new price prices exactly the events it covers that were stored unpriced, once, with the rollups in step.</summary>
[Collection(SharedApp.Name)]
public sealed class RepriceTests(OpsmeterApp app)
{
    private static readonly DateTimeOffset Start = new(DateTime.UtcNow.Date.AddDays(-1), TimeSpan.Zero);

    private async Task<RepriceResult> RepriceAsync(Guid workspaceId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RepriceJob>().RunAsync(workspaceId, CancellationToken.None);
    }

    private static async Task<HttpResponseMessage> BatchAsync(TestWorkspace ws, IEnumerable<TestEvent> events) =>
        await ws.Client.PostAsync("/v1/ingest/batch", Json($$"""{"events":[{{string.Join(",", events.Select(e => e.Json()))}}]}"""));

    private static TestEvent House(string id, DateTimeOffset at, string endpoint = "search") =>
        new() { ExternalRequestId = id, Model = "house-llama-70b", EndpointTag = endpoint, InputTokens = 1_000_000, OutputTokens = 500_000, OccurredAt = at };

    private async Task<(long Requests, decimal Cost, long Unpriced)> RawAsync(Guid workspaceId) =>
        await app.WithDbAsync(async db =>
        {
            var rows = await db.LlmRequests.Where(r => r.WorkspaceId == workspaceId).Select(r => new { r.CostUsd, r.CostStatus }).ToListAsync();
            return ((long)rows.Count, rows.Sum(r => r.CostUsd), (long)rows.Count(r => r.CostStatus == "unpriced"));
        });

    private static async Task<(long Requests, decimal Cost, long Unpriced)> MetricsAsync(TestWorkspace ws)
    {
        var metrics = await ws.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/metrics?groupBy=endpointTag&from={Uri.EscapeDataString(Start.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}");
        var totals = metrics.GetProperty("totals");
        return (totals.GetProperty("requests").GetInt64(), totals.GetProperty("costUsd").GetDecimal(), metrics.GetProperty("unpricedRequests").GetInt64());
    }

    [Fact]
    public async Task A_new_override_prices_exactly_the_unpriced_events_it_covers_once_and_the_rollups_follow()
    {
        var ws = await app.CreateWorkspaceAsync();
        Assert.Equal(HttpStatusCode.OK, (await BatchAsync(ws,
        [
            House("early", Start.AddHours(-1)), House("h1", Start.AddHours(1)), House("h2", Start.AddHours(2), "chat"),
            House("h3", Start.AddHours(3)), new TestEvent { ExternalRequestId = "catalog", Model = "gpt-4o", OccurredAt = Start.AddHours(1) },
        ])).StatusCode);
        await app.FoldAllAsync(ws.Id); // the unpriced events are in the rollups at cost 0
        Assert.Equal(4, (await MetricsAsync(ws)).Unpriced);

        var created = await ws.Client.PostAsync("/v1/pricing/overrides", Json($$"""
            {"provider":"openai","model":"house-llama-70b","inputPerMillionUsd":0.6,"outputPerMillionUsd":1.2,"effectiveFrom":"{{Start:O}}","reason":"our GPUs"}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var first = await RepriceAsync(ws.Id);
        var second = await RepriceAsync(ws.Id);

        // 1M input at 0.6 + 0.5M output at 1.2 = 1.2 USD, for the three events from the override's start on; "early" stays unpriced.
        Assert.Equal((3, 3.6m), (first.Events, first.CostUsd));
        Assert.Equal((0, 0m), (second.Events, second.CostUsd));
        var runs = await app.WithDbAsync(db => db.Set<RepriceRun>().Where(r => r.WorkspaceId == ws.Id).OrderBy(r => r.FinishedAt).ToListAsync());
        Assert.Equal([(3, 3.6m), (0, 0m)], runs.Select(r => (r.Events, r.CostUsd))); // recorded for the Prices page
        using (var owner = await DashboardUser.SignedInAsync(app, ws.Id))
        {
            Assert.Contains("data-reprice-run=\"3\"", (await owner.GetAsync("/Dashboard/Prices")).Html, StringComparison.Ordinal);
        }

        var raw = await RawAsync(ws.Id);
        Assert.Equal(1, raw.Unpriced);
        Assert.Equal(["override", "override", "override"], await app.WithDbAsync(db => db.LlmRequests
            .Where(r => r.WorkspaceId == ws.Id && r.Model == "house-llama-70b" && r.CostStatus == "priced").Select(r => r.CostSource!).ToListAsync()));
        Assert.Equal(raw, await MetricsAsync(ws)); // before the next fold: the re-priced events count from the raw table
        await app.FoldAllAsync(ws.Id);
        Assert.Equal(raw, await MetricsAsync(ws)); // after it: from the rollups, each once
        var duplicate = await (await ws.Client.PostAsync("/v1/ingest", House("h1", Start.AddHours(1)).Content())).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((true, 1.2m, "priced"), (duplicate.GetProperty("duplicate").GetBoolean(), duplicate.GetProperty("costUsd").GetDecimal(),
            duplicate.GetProperty("costStatus").GetString()));
    }

    [Fact]
    public async Task Ingest_during_re_pricing_loses_nothing_and_counts_nothing_twice()
    {
        var ws = await app.CreateWorkspaceAsync();
        const int Unpriced = (RepriceJob.BatchSize * 2) + 500; // three batches of the job
        foreach (var chunk in Enumerable.Range(0, Unpriced).Chunk(1000))
        {
            Assert.Equal(HttpStatusCode.OK, (await BatchAsync(ws, chunk.Select(i => House($"u{i}", Start.AddSeconds(i))))).StatusCode);
        }

        await app.FoldAllAsync(ws.Id);
        await ws.Client.PostAsync("/v1/pricing/overrides", Json($$"""
            {"provider":"openai","model":"house-llama-70b","inputPerMillionUsd":0.6,"outputPerMillionUsd":1.2,"effectiveFrom":"{{Start:O}}","reason":"our GPUs"}
            """));

        var repricing = RepriceAsync(ws.Id);
        var ingested = 0;
        while (!repricing.IsCompleted || ingested == 0)
        {
            var batch = Enumerable.Range(ingested, 50).Select(i => new TestEvent { ExternalRequestId = $"live{i}", Model = "gpt-4o-mini", OccurredAt = Start.AddHours(5) });
            Assert.Equal(HttpStatusCode.OK, (await BatchAsync(ws, batch)).StatusCode);
            ingested += 50;
            await app.FoldAllAsync(ws.Id); // folding races the job too
        }

        var result = await repricing;
        Assert.Equal(Unpriced, result.Events);
        await app.FoldAllAsync(ws.Id);
        var raw = await RawAsync(ws.Id);
        Assert.Equal((Unpriced + ingested, 0L), (raw.Requests, raw.Unpriced));
        Assert.Equal(raw, await MetricsAsync(ws));
    }

    [Fact]
    public async Task A_run_killed_mid_transaction_leaves_nothing_half_done_and_the_next_prices_each_event_once()
    {
        var ws = await app.CreateWorkspaceAsync();
        Assert.Equal(HttpStatusCode.OK, (await BatchAsync(ws, [House("k1", Start.AddHours(1)), House("k2", Start.AddHours(2)), House("k3", Start.AddHours(3))])).StatusCode);
        await app.FoldAllAsync(ws.Id);
        await ws.Client.PostAsync("/v1/pricing/overrides", Json($$"""
            {"provider":"openai","model":"house-llama-70b","inputPerMillionUsd":0.6,"outputPerMillionUsd":1.2,"effectiveFrom":"{{Start:O}}","reason":"our GPUs"}
            """));

        // Hold one idempotency key, so the job stops inside its transaction: rollups unfolded, events updated, keys waiting.
        await using var holder = new NpgsqlConnection(app.ConnectionString);
        await holder.OpenAsync();
        await using var holding = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT 1 FROM ingest_keys WHERE workspace_id = @ws AND external_request_id = 'k2' FOR UPDATE", holder, holding))
        {
            hold.Parameters.AddWithValue("ws", ws.Id);
            await hold.ExecuteNonQueryAsync();
        }

        var killed = RepriceAsync(ws.Id);
        var job = await BlockedBehindAsync(holder, killed);
        await using (var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", holder, holding))
        {
            terminate.Parameters.AddWithValue("pid", job);
            await terminate.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => killed);
        await holding.RollbackAsync();
        Assert.Equal((3L, 0m, 3L), await RawAsync(ws.Id)); // the killed transaction changed nothing
        Assert.Equal((3L, 0m, 3L), await MetricsAsync(ws));

        var again = await RepriceAsync(ws.Id);
        await app.FoldAllAsync(ws.Id);

        Assert.Equal((3, 3.6m), (again.Events, again.CostUsd));
        Assert.Equal((3L, 3.6m, 0L), await RawAsync(ws.Id));
        Assert.Equal((3L, 3.6m, 0L), await MetricsAsync(ws)); // the rollups count each event once, priced
        Assert.Equal(0, (await RepriceAsync(ws.Id)).Events);
    }

    /// <summary>The backend of the re-pricing run waiting on <paramref name="holder"/>'s lock (within a 30 s deadline).</summary>
    private static async Task<int> BlockedBehindAsync(NpgsqlConnection holder, Task running)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            await using var find = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE @holder = ANY(pg_blocking_pids(pid))", holder);
            find.Parameters.AddWithValue("holder", holder.ProcessID);
            if (await find.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            Assert.False(running.IsCompleted, "the run finished without waiting on the held key");
            Assert.False(deadline.IsCancellationRequested, "the run did not reach the held key within 30 s");
            await Task.Delay(20);
        }
    }
}
