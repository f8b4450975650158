using System.Globalization;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Retention;

/// <summary>What one run removed and created.</summary>
internal sealed record RetentionReport(int PartitionsCreated, IReadOnlyList<string> PartitionsDropped, long EventsDeleted, long KeysDeleted,
    long RollupsDeleted);

/// <summary>
/// The nightly "retention:purge" job (JobsSetup). Ingest never waits for it:
/// <list type="number">
/// <item>it creates the partitions of yesterday to a week ahead, so ingest rarely has to;</item>
/// <item>it drops whole daily partitions that every workspace's raw retention has passed: <c>DETACH PARTITION
/// CONCURRENTLY</c> (which locks out neither inserts nor reads) and then <c>DROP TABLE</c> of the detached table;</item>
/// <item>what partitions cannot express (a workspace keeping fewer days than the longest, the partly expired boundary day,
/// old idempotency keys, hourly and daily rollups past their retention) is deleted by key in batches of 10,000 rows,
/// each its own short transaction.</item>
/// </list>
/// Daily rollups outlive raw events, so the dashboard's figures for old ranges survive the purge.
/// </summary>
internal sealed class RetentionJob(NpgsqlDataSource dataSource, OpsmeterDbContext db, EventPartitions partitions, TimeProvider clock,
    ILogger<RetentionJob> logger)
{
    public const string RecurringId = "retention:purge";
    public const int DaysAhead = 7;
    private const int BatchSize = 10_000;

    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(CancellationToken ct) => await PurgeAsync(ct);

    public async Task<RetentionReport> PurgeAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        int created;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            created = partitions.Ensure(connection, today.AddDays(-1), today.AddDays(DaysAhead));
        }

        var workspaces = await db.Workspaces.AsNoTracking()
            .Select(w => new { w.Id, w.Name, w.RawRetentionDays, w.RollupRetentionDays }).ToListAsync(ct);
        var longest = workspaces.Count == 0 ? RetentionRules.DefaultRawDays : workspaces.Max(w => w.RawRetentionDays);
        var dropped = await DropPartitionsAsync(RetentionRules.DropPartitionsBefore(now, longest), ct);

        long events = 0, keys = 0, rollups = 0;
        foreach (var w in workspaces)
        {
            var rawCutoff = RetentionRules.RawCutoff(now, w.RawRetentionDays);
            var workspaceEvents = await DeleteInBatchesAsync("""
                DELETE FROM llm_requests WHERE (workspace_id, id, occurred_at) IN (
                    SELECT workspace_id, id, occurred_at FROM llm_requests WHERE workspace_id = @workspace AND occurred_at < @cutoff LIMIT @batch)
                """, w.Id, rawCutoff, null, ct);
            var workspaceKeys = await DeleteInBatchesAsync("""
                DELETE FROM ingest_keys WHERE (workspace_id, external_request_id) IN (
                    SELECT workspace_id, external_request_id FROM ingest_keys WHERE workspace_id = @workspace AND received_at < @cutoff LIMIT @batch)
                """, w.Id, RetentionRules.KeyCutoff(now, w.RawRetentionDays), null, ct);
            // usage_rollups is partitioned by period: a ctid is unique only within a partition, the (tableoid, ctid) pair everywhere.
            // Weekly and monthly rows go with the daily row of their first day, so no figure counts a day the daily rows no longer hold.
            var workspaceRollups = await DeleteInBatchesAsync("""
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

    private async Task<List<string>> DropPartitionsAsync(DateOnly before, CancellationToken ct)
    {
        var names = new List<string>();
        await using (var list = dataSource.CreateCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'llm_requests'::regclass AND c.relname ~ '^llm_requests_p[0-9]{8}$' ORDER BY 1
            """))
        await using (var reader = await list.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                names.Add(reader.GetString(0));
            }
        }

        var dropped = new List<string>();
        foreach (var name in names.Where(n => DateOnly.ParseExact(n[^8..], "yyyyMMdd", CultureInfo.InvariantCulture) < before))
        {
            // Each statement alone: DETACH … CONCURRENTLY cannot run inside a transaction block. Names come from pg_class.
            await ExecuteAsync($"ALTER TABLE llm_requests DETACH PARTITION \"{name}\" CONCURRENTLY", ct);
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
