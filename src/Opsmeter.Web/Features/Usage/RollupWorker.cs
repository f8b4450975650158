using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.Web.Features.Usage;

/// <summary>
/// Keeps usage_rollups (hourly and daily sums per dimension value; daily, weekly and monthly for the many-valued
/// userId and tenantId, whose hourly rows would be as many as the events) up to date a few seconds behind ingest,
/// off the ingest path. Each pass folds in exactly the events stored by transactions that have ended since
/// the last pass: PostgreSQL's snapshot horizon (<c>pg_snapshot_xmin</c>) is the lowest transaction id still
/// running, so every row with a lower <c>ingest_xid</c> is final. The sums and the new horizon are written
/// in one transaction, so a crash never counts an event twice or loses one; on several nodes the row lock
/// on rollup_state lets one pass run at a time. Queries add the events not folded in yet from the raw table, from the
/// oldest time such an event has: a trigger on llm_requests registers, for each statement that inserts or updates events,
/// its transaction id and each workspace's oldest <c>occurred_at</c> (table rollup_pending), and a pass forgets what it folded.
/// </summary>
internal sealed class RollupWorker(NpgsqlDataSource db, TimeProvider clock, IConfiguration configuration, ILogger<RollupWorker> logger)
    : BackgroundService
{
    // How far the rollups may trail ingest; queries add the tail from the raw events, so this changes speed, never figures.
    private readonly TimeSpan interval = TimeSpan.FromSeconds(Math.Max(1, configuration.GetValue("Opsmeter:Usage:RollupIntervalSeconds", 5)));

    // One statement. (1) Each new event is read once, with its latency bucket found once. (2) Events are summed once by
    // their combination of the few-valued dimensions (Dimensions) per hour (a few thousand groups, not one per event), and those
    // sums are spread over each dimension, so the 24 sums per row run once per event instead of once per event and
    // dimension; daily rows come from the hourly ones. (3) Likewise once per (day, user, tenant), spread over userId and
    // tenantId; weekly and monthly rows come from those daily sums. Then one upsert. Measured in docs/benchmarks.md.
    // The occurred_at bound is what lets PostgreSQL prune partitions: ingest_xid alone would have every daily partition's BRIN
    // index searched (and every partition and index locked) on each pass. It is the oldest event the pass's transactions
    // registered (rollup_pending), or UnfoldedFrom where that is later (no event older than it is folded: see there).
    internal static readonly string Fold = FoldSql("r.ingest_xid >= @from AND r.ingest_xid < @below AND r.occurred_at >= @oldest", subtract: false);

    /// <summary>Takes folded events (by id, below the horizon) back out of the rollups, for a writer about to change them.</summary>
    private static readonly string Unfold = FoldSql("r.workspace_id = @workspace AND r.id = ANY(@ids) AND r.ingest_xid < @below", subtract: true);

    private static string FoldSql(string events, bool subtract)
    {
        var rows = $"""
        SELECT workspace_id, dimension, 'h' AS period, bucket, data_mode, environment, value, {UsageRollupSql.Measures}, {UsageRollupSql.BucketColumns}
        FROM hourly
        UNION ALL
        SELECT workspace_id, dimension, 'd', date_trunc('day', bucket, 'UTC'), data_mode, environment, value, {UsageRollupSql.ColumnSums}
        FROM hourly GROUP BY 1, 2, 4, 5, 6, 7
        UNION ALL
        SELECT workspace_id, dimension, 'd', bucket, data_mode, environment, value, {UsageRollupSql.Measures}, {UsageRollupSql.BucketColumns}
        FROM daily_many
        UNION ALL
        SELECT workspace_id, dimension, u.period, date_trunc(u.unit, bucket, 'UTC'), data_mode, environment, value, {UsageRollupSql.ColumnSums}
        FROM daily_many CROSS JOIN (VALUES ('w', 'week'), ('m', 'month')) AS u(period, unit) GROUP BY 1, 2, 3, 4, 5, 6, 7
        """;
        var columns = $"workspace_id, dimension, period, bucket, data_mode, environment, value, {UsageRollupSql.Measures}, {UsageRollupSql.BucketColumns}";
        var negated = string.Join(", ", UsageRollupSql.Measures.Split(", ").Concat(UsageRollupSql.Buckets).Select(c => $"-{c}"));
        return $"""
        WITH e AS MATERIALIZED (
            SELECT r.workspace_id, date_trunc('hour', r.occurred_at, 'UTC') AS hour, r.data_mode, r.environment,
                   {string.Join(", ", Dimensions.All.Select(d => $"{d.GroupExpression("r")} AS {d.Column}"))},
                   {UsageRollupSql.EventMeasures}
            FROM llm_requests r
            WHERE {events}),
        combos AS MATERIALIZED (
            SELECT workspace_id, hour, data_mode, environment, {Columns(Dimensions.FewValued)}, {UsageRollupSql.EventAggregates}
            FROM e GROUP BY {Positions(4 + Dimensions.FewValued.Count())}),
        hourly AS MATERIALIZED (
            SELECT c.workspace_id, d.dimension, c.hour AS bucket, c.data_mode, c.environment, d.value, {UsageRollupSql.ColumnSums}
            FROM combos c CROSS JOIN LATERAL (VALUES ('total', ''), {Values("c", Dimensions.FewValued)}) AS d(dimension, value)
            GROUP BY 1, 2, 3, 4, 5, 6),
        people AS MATERIALIZED (
            SELECT workspace_id, date_trunc('day', hour, 'UTC') AS day, data_mode, environment, {Columns(Dimensions.ManyValued)}, {UsageRollupSql.EventAggregates}
            FROM e GROUP BY {Positions(4 + Dimensions.ManyValued.Count())}),
        daily_many AS MATERIALIZED (
            SELECT p.workspace_id, d.dimension, p.day AS bucket, p.data_mode, p.environment, d.value, {UsageRollupSql.ColumnSums}
            FROM people p CROSS JOIN LATERAL (VALUES {Values("p", Dimensions.ManyValued)}) AS d(dimension, value)
            GROUP BY 1, 2, 3, 4, 5, 6),
        -- In the same statement, so in the same transaction as the rows: kept sums of finished days go with the rows they summed.
        bumped AS ({RollupGenerations.Bump("SELECT DISTINCT workspace_id, 1::bigint FROM combos WHERE hour < @finished")})
        {(subtract ? $", folded AS ({rows}) INSERT INTO usage_rollups ({columns}) SELECT workspace_id, dimension, period, bucket, data_mode, environment, value, {negated} FROM folded" : $"INSERT INTO usage_rollups ({columns}) {rows}")}
        ON CONFLICT (workspace_id, dimension, period, bucket, data_mode, environment, value) DO UPDATE SET
        {string.Join(", ", UsageRollupSql.Measures.Split(", ").Concat(UsageRollupSql.Buckets).Select(c => $"{c} = usage_rollups.{c} + EXCLUDED.{c}"))}
        """;
    }

    /// <summary>
    /// The oldest <c>occurred_at</c> an event not folded in yet can have, given the longest raw retention among workspaces: ingest
    /// refuses older events (RawRetention), re-pricing touches none older (RepriceJob), and the retention job drops only the days
    /// before it (PartitionMaintenance.Window). A day more is kept for a node whose cached retention is a few seconds stale
    /// after a workspace's retention was shortened; an event that node accepts beyond that is past the retention the workspace
    /// just chose, and the next purge deletes it. Passed as a parameter, the bound prunes partitions when the statement is
    /// planned (RollupTests checks the plan).
    /// </summary>
    internal static DateTimeOffset UnfoldedFrom(DateTimeOffset now, int longestRawDays)
    {
        var day = PartitionMaintenance.Window(now, longestRawDays).From.AddDays(-1);
        return new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
    }

    private static string Columns(IEnumerable<Dimension> dimensions) => string.Join(", ", dimensions.Select(d => d.Column));

    private static string Values(string alias, IEnumerable<Dimension> dimensions) =>
        string.Join(", ", dimensions.Select(d => $"('{d.Name}', {alias}.{d.Column})"));

    private static string Positions(int count) => string.Join(", ", Enumerable.Range(1, count));

    /// <summary>
    /// For a writer that changes stored events (re-pricing): takes the lock a pass takes, so no pass runs until the
    /// writer's transaction ends, and returns the horizon: events whose <c>ingest_xid</c> is below it are in the rollups.
    /// </summary>
    internal static async Task<long> LockHorizonAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var state = new NpgsqlCommand("SELECT processed_below_xid FROM rollup_state WHERE name = 'usage' FOR UPDATE", connection, transaction);
        return (long)(await state.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Takes these events of the workspace out of the rollups if they are folded in (below <paramref name="below"/>). The
    /// writer then changes them and gives them its own transaction id as <c>ingest_xid</c>, so the next pass folds them
    /// in again as they are now, and queries count them from the raw table meanwhile.
    /// </summary>
    internal static async Task UnfoldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId, Guid[] ids, long below,
        CancellationToken ct)
    {
        await using var unfold = new NpgsqlCommand(Unfold, connection, transaction);
        unfold.Parameters.AddWithValue("workspace", workspaceId);
        unfold.Parameters.AddWithValue("ids", ids);
        unfold.Parameters.AddWithValue("below", below);
        unfold.Parameters.AddWithValue("finished", DateTimeOffset.MaxValue); // re-pricing changes finished days: always moved on
        unfold.CommandTimeout = 300;
        await unfold.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One pass; returns whether the horizon moved.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Room to group a pass's events in memory: with the default 4 MB PostgreSQL sorts them on disk, 2.6 times slower.
        await using var state = new NpgsqlCommand(
            "SET LOCAL work_mem = '128MB'; " +
            "SELECT processed_below_xid, pg_snapshot_xmin(pg_current_snapshot())::text::bigint FROM rollup_state WHERE name = 'usage' FOR UPDATE",
            connection, transaction);
        long from, below;
        await using (var reader = await state.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (from, below) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        if (below <= from)
        {
            return false;
        }

        // The oldest event of the transactions this pass folds, as registered with them (rollup_pending): the fold then reads
        // the partitions of its days, not every one raw retention keeps; none registered, no event to fold. So every write of
        // events goes through llm_requests itself, whose statement triggers register it: rows written straight into a
        // partition, or with triggers off (session_replication_role = replica), would be neither folded nor in the tail.
        await using var registered = new NpgsqlCommand(
            "SELECT min(oldest) FROM rollup_pending WHERE ingest_xid >= @from AND ingest_xid < @below", connection, transaction);
        registered.Parameters.AddWithValue("from", from);
        registered.Parameters.AddWithValue("below", below);
        DateTimeOffset? found;
        await using (var reader = await registered.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            found = reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0);
        }

        if (found is { } pending)
        {
            var oldest = UnfoldedFrom(clock.GetUtcNow(), await PartitionMaintenance.LongestRawRetentionAsync(connection, transaction, ct));
            await using var fold = new NpgsqlCommand(Fold, connection, transaction);
            fold.Parameters.AddWithValue("from", from);
            fold.Parameters.AddWithValue("below", below);
            fold.Parameters.AddWithValue("oldest", pending > oldest ? pending : oldest);
            fold.Parameters.AddWithValue("finished", RollupGenerations.WriterFinishedBefore(clock.GetUtcNow()));
            fold.CommandTimeout = 300;
            await fold.ExecuteNonQueryAsync(ct);
        }

        // The registry of events not folded in yet (rollup_pending, filled by a trigger on llm_requests) forgets the ones folded now.
        await using (var advance = new NpgsqlCommand(
            "UPDATE rollup_state SET processed_below_xid = @below WHERE name = 'usage'; DELETE FROM rollup_pending WHERE ingest_xid < @below",
            connection, transaction))
        {
            advance.Parameters.AddWithValue("below", below);
            await advance.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        if (found is null)
        {
            return true;
        }

        // Queries find the events not folded yet through the BRIN index on ingest_xid, but BRIN leaves newly filled
        // page ranges unsummarized until a vacuum, and an unsummarized range is read whole: over 90 daily partitions
        // that made the tail of every dashboard query scan most of the table. Summarizing the new ranges here keeps
        // the tail a few pages. (It takes no lock that ingest waits for.)
        await using (var summarize = new NpgsqlCommand(SummarizeNewRanges, connection))
        {
            summarize.CommandTimeout = 300;
            await summarize.ExecuteNonQueryAsync(ct);
        }

        return true;
    }

    private const string SummarizeNewRanges = """
        SELECT brin_summarize_new_values(i.indexrelid)
        FROM pg_inherits p JOIN pg_index i ON i.indrelid = p.inhrelid JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        WHERE p.inhparent = 'llm_requests'::regclass AND a.amname = 'brin'
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // The next pass starts from the same horizon: nothing is lost, only later.
                logger.LogWarning("Usage rollup pass failed, retried in {Seconds} s: {Error}", interval.TotalSeconds, e.Message);
            }
        }
        while (await timer.TickAsync(stoppingToken));
    }
}
