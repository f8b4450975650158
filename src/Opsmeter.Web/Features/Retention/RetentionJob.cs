using System.Globalization;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Retention;

/// <summary>What one run removed and created; <paramref name="Skipped"/> when another run held the lock and this one did nothing.</summary>
internal sealed record RetentionReport(int PartitionsCreated, IReadOnlyList<string> PartitionsDropped, long EventsDeleted, long KeysDeleted,
    long RollupsDeleted, bool Skipped = false);

/// <summary>
/// The nightly "retention:purge" job (JobsSetup). Ingest never waits for it. One run at a time, on any number of nodes: a run
/// holds a session advisory lock for its whole length, and a run that finds it taken logs so and does nothing (Hangfire's
/// <c>DisableConcurrentExecution</c> would wait and then fail; the lock also covers a run started by hand or from a test).
/// Each step is safe to interrupt (a killed worker, a cancelled token, a terminated backend) and the next run finishes it:
/// <list type="number">
/// <item>it first completes what an interrupted run left: a partition whose <c>DETACH … CONCURRENTLY</c> was interrupted
/// stays "detach pending" (still attached, invisible to new queries) and is finished with <c>DETACH … FINALIZE</c>; a
/// partition detached but not dropped is dropped (left behind, its name would keep <c>ensure_llm_request_partitions</c>
/// from making that day again);</item>
/// <item>it creates the partitions of the backfill window (<see cref="PartitionMaintenance"/>), so ingest rarely has to;</item>
/// <item>it drops whole daily partitions that every workspace's raw retention has passed: <c>DETACH PARTITION
/// CONCURRENTLY</c> (which locks out neither inserts nor reads) and then <c>DROP TABLE</c> of the detached table;</item>
/// <item>what partitions cannot express (a workspace keeping fewer days than the longest, the partly expired boundary day,
/// old idempotency keys, hourly and daily rollups past their retention) is deleted by key in batches of 10,000 rows,
/// each its own short transaction.</item>
/// </list>
/// Daily rollups outlive raw events, so the dashboard's figures for old ranges survive the purge.
/// </summary>
internal sealed class RetentionJob(NpgsqlDataSource dataSource, OpsmeterDbContext db, EventPartitions partitions, PartitionMaintenance maintenance,
    TimeProvider clock, ILogger<RetentionJob> logger)
{
    public const string RecurringId = "retention:purge";
    private const int BatchSize = 10_000;
    private const string LockKey = "hashtext('retention:purge')";

    // Partitions of llm_requests (attached, or detached and left behind) by name; names come from pg_class, never from input.
    private const string PartitionsSql = """
        SELECT c.relname, coalesce(i.inhdetachpending, false), i.inhrelid IS NOT NULL
        FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'llm_requests'::regclass
        WHERE c.relkind = 'r' AND c.relname ~ '^llm_requests_p[0-9]{8}$'
          AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'llm_requests'::regclass)
        ORDER BY 1
        """;

    /// <summary>For tests: runs after each partition's detach, before its drop (to interrupt a run between the two).</summary>
    internal Func<string, Task>? AfterDetach { get; set; }

    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(CancellationToken ct) => await PurgeAsync(ct);

    public async Task<RetentionReport> PurgeAsync(CancellationToken ct)
    {
        // Held on this connection until the run ends; a killed process or backend releases it with its session. Released by
        // hand otherwise: a pooled connection's session outlives the run.
        await using var gate = await dataSource.OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", gate))
        {
            if (!(bool)(await take.ExecuteScalarAsync(ct))!)
            {
                logger.LogInformation("Retention skipped: another run holds the lock and is still purging");
                return new RetentionReport(0, [], 0, 0, 0, Skipped: true);
            }
        }

        try
        {
            return await PurgeLockedAsync(ct);
        }
        finally
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", gate);
            try
            {
                await release.ExecuteScalarAsync(CancellationToken.None);
            }
            catch (NpgsqlException e)
            {
                // The session is gone (a terminated backend), and its lock with it.
                logger.LogWarning("Retention lock not released by hand ({Error}); it went with its session", e.Message);
            }
        }
    }

    private async Task<RetentionReport> PurgeLockedAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var finished = await FinishInterruptedAsync(ct);
        var created = await maintenance.EnsureWindowAsync(now, ct);

        var workspaces = await db.Workspaces.AsNoTracking()
            .Select(w => new { w.Id, w.Name, w.RawRetentionDays, w.RollupRetentionDays }).ToListAsync(ct);
        var longest = workspaces.Count == 0 ? RetentionRules.DefaultRawDays : workspaces.Max(w => w.RawRetentionDays);
        var dropped = await DropPartitionsAsync(RetentionRules.DropPartitionsBefore(now, longest), ct);
        dropped.InsertRange(0, finished);

        long events = 0, keys = 0, rollups = 0;
        foreach (var w in workspaces)
        {
            var rawCutoff = RetentionRules.RawCutoff(now, w.RawRetentionDays);
            // Kept sums of finished days may hold folded raw events of an edge's hours (UsageRollupQueries.KeptSumsAsync).
            var workspaceEvents = await DeleteInBatchesAsync($"""
                WITH bumped AS ({RollupGenerations.BumpWorkspace})
                DELETE FROM llm_requests WHERE (workspace_id, id, occurred_at) IN (
                    SELECT workspace_id, id, occurred_at FROM llm_requests WHERE workspace_id = @workspace AND occurred_at < @cutoff LIMIT @batch)
                """, w.Id, rawCutoff, null, ct);
            var workspaceKeys = await DeleteInBatchesAsync("""
                DELETE FROM ingest_keys WHERE (workspace_id, external_request_id) IN (
                    SELECT workspace_id, external_request_id FROM ingest_keys WHERE workspace_id = @workspace AND received_at < @cutoff LIMIT @batch)
                """, w.Id, RetentionRules.KeyCutoff(now, w.RawRetentionDays), null, ct);
            // usage_rollups is partitioned by period: a ctid is unique only within a partition, the (tableoid, ctid) pair everywhere.
            // Weekly and monthly rows go with the daily row of their first day, so no figure counts a day the daily rows no longer hold.
            var workspaceRollups = await DeleteInBatchesAsync($"""
                WITH bumped AS ({RollupGenerations.BumpWorkspace})
                DELETE FROM usage_rollups WHERE (tableoid, ctid) IN (
                    SELECT tableoid, ctid FROM usage_rollups WHERE workspace_id = @workspace
                      AND ((period = 'h' AND bucket < @cutoff) OR (period IN ('d', 'w', 'm') AND bucket < @dailyCutoff)) LIMIT @batch)
                """, w.Id, rawCutoff, RetentionRules.RollupCutoff(now, w.RollupRetentionDays), ct);
            if (workspaceEvents + workspaceKeys + workspaceRollups > 0)
            {
                logger.LogInformation("Retention for workspace {Workspace}: removed {Events} raw events before {RawCutoff:O}, {Keys} idempotency keys, {Rollups} rollup rows",
                    w.Name, workspaceEvents, rawCutoff, workspaceKeys, workspaceRollups);
            }

            (events, keys, rollups) = (events + workspaceEvents, keys + workspaceKeys, rollups + workspaceRollups);
        }

        logger.LogInformation("Retention done: {Created} partitions created, {Dropped} dropped ({Names}), {Events} events, {Keys} keys and {Rollups} rollup rows deleted",
            created, dropped.Count, string.Join(", ", dropped), events, keys, rollups);
        return new RetentionReport(created, dropped, events, keys, rollups);
    }

    private sealed record PartitionState(string Name, bool DetachPending, bool Attached)
    {
        public DateOnly Day => DateOnly.ParseExact(Name[^8..], "yyyyMMdd", CultureInfo.InvariantCulture);
    }

    private async Task<List<PartitionState>> ListPartitionsAsync(CancellationToken ct)
    {
        var found = new List<PartitionState>();
        await using var list = dataSource.CreateCommand(PartitionsSql);
        await using var reader = await list.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            found.Add(new PartitionState(reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2)));
        }

        return found;
    }

    /// <summary>Finishes the detaches and drops an interrupted run left; returns the partitions dropped.</summary>
    private async Task<List<string>> FinishInterruptedAsync(CancellationToken ct)
    {
        var finished = new List<string>();
        foreach (var partition in (await ListPartitionsAsync(ct)).Where(p => p.DetachPending || !p.Attached))
        {
            if (partition.DetachPending)
            {
                // FINALIZE waits, like the interrupted detach did, for the transactions that may still read the partition.
                await ExecuteAsync($"ALTER TABLE llm_requests DETACH PARTITION \"{partition.Name}\" FINALIZE", ct);
            }

            await ExecuteAsync($"DROP TABLE \"{partition.Name}\"", ct);
            finished.Add(partition.Name);
            logger.LogWarning("Finished dropping partition {Partition}, which an interrupted retention run had begun to detach", partition.Name);
        }

        if (finished.Count > 0)
        {
            partitions.Forget();
        }

        return finished;
    }

    private async Task<List<string>> DropPartitionsAsync(DateOnly before, CancellationToken ct)
    {
        var dropped = new List<string>();
        foreach (var name in (await ListPartitionsAsync(ct)).Where(p => p.Attached && p.Day < before).Select(p => p.Name))
        {
            // Each statement alone: DETACH … CONCURRENTLY cannot run inside a transaction block. Interrupted after its first
            // transaction, it leaves the partition "detach pending", which the next run finishes (FinishInterruptedAsync).
            await ExecuteAsync($"ALTER TABLE llm_requests DETACH PARTITION \"{name}\" CONCURRENTLY", ct);
            if (AfterDetach is { } hook)
            {
                await hook(name);
            }

            await ExecuteAsync($"DROP TABLE \"{name}\"", ct);
            dropped.Add(name);
            logger.LogInformation("Dropped partition {Partition}: every workspace's raw retention has passed it", name);
        }

        if (dropped.Count > 0)
        {
            partitions.Forget();
        }

        return dropped;
    }

    private async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<long> DeleteInBatchesAsync(string sql, Guid workspaceId, DateTimeOffset cutoff, DateTimeOffset? dailyCutoff, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.AddWithValue("workspace", workspaceId);
            command.Parameters.AddWithValue("cutoff", cutoff);
            command.Parameters.AddWithValue("batch", BatchSize);
            if (dailyCutoff is { } daily)
            {
                command.Parameters.AddWithValue("dailyCutoff", daily);
            }

            var deleted = await command.ExecuteNonQueryAsync(ct);
            total += deleted;
            if (deleted < BatchSize)
            {
                return total;
            }
        }
    }
}
