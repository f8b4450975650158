using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Repricing;

/// <summary>What one re-pricing run did: events priced now, and the dollars they add.</summary>
internal sealed record RepriceResult(int Events, decimal CostUsd);

/// <summary>
/// <c>pricing:reprice</c>: prices the workspace's unpriced events that a price in force at their <c>occurredAt</c> now
/// covers, and only those (<c>cost_status = 'unpriced'</c> is the condition of every write, so a priced event never
/// changes and a second run finds nothing left). Batch by batch, each in one short transaction: the rollup lock is taken
/// first (no pass folds meanwhile), the batch's folded events are taken out of the rollups, the rows and their
/// idempotency keys get their cost and the transaction's id, and the next pass folds them in again as priced. Ingest
/// never waits for it: new rows are not locked, and an event stored during the run is priced on arrival.
/// </summary>
internal sealed class RepriceJob(NpgsqlDataSource db, PriceCatalog catalog, OpsmeterDbContext records, TimeProvider clock, ILogger<RepriceJob> logger)
{
    /// <summary>Events per transaction: enough to spread the rollup lock and the unfold over many rows, short enough to keep folding going.</summary>
    public const int BatchSize = 5_000;

    private const string NextBatch = """
        SELECT id, occurred_at, provider, model, input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens,
               reasoning_tokens, cache_write_1h_input_tokens, service_tier
        FROM llm_requests
        WHERE workspace_id = @workspace AND cost_status = 'unpriced' AND occurred_at >= @oldest AND (occurred_at, id) > (@after_time, @after_id)
        ORDER BY occurred_at, id
        LIMIT @limit
        FOR UPDATE
        """;

    private const string Price = """
        WITH priced AS (
            SELECT * FROM unnest(@ids, @occurred, @price_ids, @sources, @costs, @input, @cached, @write, @output, @reasoning)
                AS p(id, occurred_at, price_id, cost_source, cost_usd, input_cost, cached_cost, write_cost, output_cost, reasoning_cost)),
        updated AS (
            UPDATE llm_requests r SET cost_usd = p.cost_usd, cost_status = 'priced', price_id = p.price_id, cost_source = p.cost_source,
                input_cost_usd = p.input_cost, cached_input_cost_usd = p.cached_cost, cache_write_cost_usd = p.write_cost,
                output_cost_usd = p.output_cost, reasoning_cost_usd = p.reasoning_cost,
                ingest_xid = pg_current_xact_id()::text::bigint
            FROM priced p
            WHERE r.workspace_id = @workspace AND r.id = p.id AND r.occurred_at = p.occurred_at AND r.cost_status = 'unpriced'
            RETURNING r.external_request_id, r.cost_usd, r.price_id)
        UPDATE ingest_keys k SET cost_usd = u.cost_usd, cost_status = 'priced', price_id = u.price_id
        FROM updated u
        WHERE k.workspace_id = @workspace AND k.external_request_id = u.external_request_id
        """;

    [JobDisplayName("pricing:reprice {0}")]
    [AutomaticRetry(Attempts = 3)]
    public async Task<RepriceResult> RunAsync(Guid workspaceId, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var (events, dollars) = (0, 0m);
        var after = (Time: DateTimeOffset.MinValue.ToUniversalTime(), Id: Guid.Empty);
        while (true)
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var horizon = await RollupWorker.LockHorizonAsync(connection, transaction, ct);
            // An event older than any workspace keeps is left as it is: priced, it would be taken out of the rollups and,
            // being older than the fold reads (RollupWorker.UnfoldedFrom), never put back; the next purge deletes it.
            var oldest = RollupWorker.UnfoldedFrom(clock.GetUtcNow(), await PartitionMaintenance.LongestRawRetentionAsync(connection, transaction, ct));
            var batch = await ReadBatchAsync(connection, transaction, workspaceId, oldest, after, ct);
            if (batch.Count == 0)
            {
                break;
            }

            after = (batch[^1].OccurredAt, batch[^1].Id);
            var priced = batch
                .Select(e => (Event: e, Priced: catalog.Price(workspaceId, e.Provider, e.Model, e.OccurredAt, e.Tier, e.Usage)))
                .Where(x => x.Priced.Price is not null)
                .Select(x => (x.Event, Price: x.Priced.Price!, x.Priced.Cost))
                .ToList();
            if (priced.Count > 0)
            {
                await RollupWorker.UnfoldAsync(connection, transaction, workspaceId, [.. priced.Select(p => p.Event.Id)], horizon, ct);
                await using var update = new NpgsqlCommand(Price, connection, transaction);
                update.Parameters.AddWithValue("workspace", workspaceId);
                update.Parameters.AddWithValue("ids", priced.Select(p => p.Event.Id).ToArray());
                update.Parameters.Add(new NpgsqlParameter("occurred", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = priced.Select(p => p.Event.OccurredAt).ToArray() });
                update.Parameters.AddWithValue("price_ids", priced.Select(p => p.Price.Id).ToArray());
                update.Parameters.AddWithValue("sources", priced.Select(p => p.Price.WorkspaceId is null ? CostSources.Catalog : CostSources.Override).ToArray());
                update.Parameters.AddWithValue("costs", priced.Select(p => p.Cost.Total).ToArray());
                update.Parameters.AddWithValue("input", priced.Select(p => CostBreakdown.Round(p.Cost.Input)).ToArray());
                update.Parameters.AddWithValue("cached", priced.Select(p => CostBreakdown.Round(p.Cost.CachedInput)).ToArray());
                update.Parameters.AddWithValue("write", priced.Select(p => CostBreakdown.Round(p.Cost.CacheWrite)).ToArray());
                update.Parameters.AddWithValue("output", priced.Select(p => CostBreakdown.Round(p.Cost.Output)).ToArray());
                update.Parameters.AddWithValue("reasoning", priced.Select(p => CostBreakdown.Round(p.Cost.Reasoning)).ToArray());
                await update.ExecuteNonQueryAsync(ct);
                (events, dollars) = (events + priced.Count, dollars + priced.Sum(p => p.Cost.Total));
            }

            await transaction.CommitAsync(ct);
        }

        // The run's record, for the Prices page: what a new price did to the events stored before it. None for a workspace
        // deleted since the job was queued: its rows are gone, and this one would outlive it.
        if (!await records.Workspaces.AnyAsync(w => w.Id == workspaceId, ct))
        {
            return new RepriceResult(events, dollars);
        }

        records.Add(new RepriceRun
        {
            WorkspaceId = workspaceId, Id = Guid.CreateVersion7(started), StartedAt = started, FinishedAt = clock.GetUtcNow(), Events = events,
            CostUsd = dollars,
        });
        await records.SaveChangesAsync(ct);
        logger.LogInformation("Re-priced {Events} unpriced events of workspace {Workspace}: {Dollars} USD", events, workspaceId, dollars);
        return new RepriceResult(events, dollars);
    }

    private sealed record UnpricedEvent(Guid Id, DateTimeOffset OccurredAt, string Provider, string Model, TokenUsage Usage, string Tier);


    private static async Task<List<UnpricedEvent>> ReadBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId,
        DateTimeOffset oldest, (DateTimeOffset Time, Guid Id) after, CancellationToken ct)
    {
        await using var read = new NpgsqlCommand(NextBatch, connection, transaction);
        read.Parameters.AddWithValue("workspace", workspaceId);
        read.Parameters.AddWithValue("oldest", oldest);
        read.Parameters.AddWithValue("after_time", after.Time);
        read.Parameters.AddWithValue("after_id", after.Id);
        read.Parameters.AddWithValue("limit", BatchSize);
        await using var reader = await read.ExecuteReaderAsync(ct);
        var batch = new List<UnpricedEvent>(BatchSize);
        while (await reader.ReadAsync(ct))
        {
            batch.Add(new UnpricedEvent(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3),
                new TokenUsage(reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9)),
                reader.GetString(10)));
        }

        return batch;
    }
}
