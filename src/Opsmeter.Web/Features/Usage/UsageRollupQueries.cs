using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;
using Opsmeter.Web.Features.Events;

namespace Opsmeter.Web.Features.Usage;

internal static partial class UsageQueries
{
    private static readonly Dictionary<string, (string Dimension, string Key)> RollupKeys = new()
    {
        ["total"] = ("total", "'total'"),
        ["day"] = ("total", "to_char(date_trunc('day', bucket, 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        ["hour"] = ("total", "to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00')"),
    };

    /// <summary>What each branch selects: from rollup rows, from raw events, from raw events to subtract, and the join raw rows need.</summary>
    private sealed record BranchColumns(string Rollup, string Raw, string NegatedRaw, string RawJoin);

    private static readonly BranchColumns AllColumns = new($"{UsageRollupSql.Measures}, {UsageRollupSql.BucketColumns}",
        UsageRollupSql.RawMeasures, UsageRollupSql.NegatedRawMeasures, UsageRollupSql.RawBucketJoin);

    // Spend only (the overview's top lists): two sums instead of twenty-four, and no latency bucket for raw rows.
    private static readonly BranchColumns SpendColumns = new("requests, cost_usd", "1, r.cost_usd", "-1, -r.cost_usd", "");

    private static async IAsyncEnumerable<UsageRow> QueryRollupsAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy,
        int? limit, bool spendOnly, GroupPage? page, [EnumeratorCancellation] CancellationToken ct)
    {
        var byTime = IsTime(groupBy);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var (below, rawFrom, generation, unfoldedFrom) = await ReadHorizonAsync(connection, transaction, workspaceId, ct);
        if (Plan(filter, groupBy, rawFrom) is not { } window)
        {
            // Give the connection back before the raw query takes one.
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
            await foreach (var row in QueryAsync(db, workspaceId, filter, KeyExpression(groupBy), limit, page, ct, byTime))
            {
                yield return row;
            }

            yield break;
        }

        // Rollup rows of finished days change only with the workspace's generation: their sums are read once per generation
        // and kept, and each query sends them back as one branch instead of reading thousands of rows again.
        var (finished, live) = window.Split(filter.Now is { } now ? RollupGenerations.ReaderFinishedBefore(now) : DateTimeOffset.MinValue);
        var kept = finished.Count == 0 ? null
            : await KeptSumsAsync(db, connection, transaction, workspaceId, filter, groupBy, generation, below, finished, ct);
        live = RollupWindow.CutTail(kept is null ? window.Parts : live, unfoldedFrom);
        var order = $"GROUP BY key HAVING sum(requests) > 0{PageConditions(page, byTime, "key", "coalesce(sum(cost_usd), 0)")} " +
            $"ORDER BY {(byTime ? "1" : $"{(spendOnly || limit is not null ? 3 : 6)} DESC, 1")}{Limit(limit)}";
        if (spendOnly || byTime || limit is null)
        {
            await using var command = GroupCommand(connection, transaction, workspaceId, filter, groupBy, below, live, kept,
                spendOnly ? SpendColumns : AllColumns, order);
            AddPage(command, page);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                yield return ReadRow(reader, spendOnly);
            }

            yield break;
        }

        // Ranking needs every group's spend, but only the answer's rows need all 24 sums: the groups are ranked on two sums
        // first, then the rest is summed for the ranked keys alone, in the same snapshot.
        var ranked = new List<string>();
        await using (var rank = GroupCommand(connection, transaction, workspaceId, filter, groupBy, below, live, kept, SpendColumns, order))
        {
            AddPage(rank, page);
            await using var reader = await rank.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ranked.Add(reader.GetString(0));
            }
        }

        if (ranked.Count == 0)
        {
            yield break;
        }

        var rows = new Dictionary<string, UsageRow>(StringComparer.Ordinal);
        await using (var sum = GroupCommand(connection, transaction, workspaceId, filter, groupBy, below, live, kept?.Only(ranked), AllColumns,
            "WHERE key = ANY(@ranked) GROUP BY key"))
        {
            sum.Parameters.AddWithValue("ranked", ranked.ToArray());
            await using var reader = await sum.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var row = ReadRow(reader, spendOnly: false);
                rows[row.Key] = row;
            }
        }

        foreach (var key in ranked)
        {
            yield return rows[key];
        }
    }

    /// <summary>
    /// One grouped query over the live parts and the kept sums: <c>SELECT key, sums FROM src {tail}</c>, where
    /// <paramref name="tail"/> groups (and orders); the page's parameters are added by the caller where its tail uses them.
    /// </summary>
    private static NpgsqlCommand GroupCommand(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId, UsageFilter filter,
        string groupBy, long below, IReadOnlyList<WindowPart> live, FinishedSums? kept, BranchColumns columns, string tail)
    {
        var (dimension, rollupKey) = RollupKey(groupBy);
        var sums = string.Join(", ", columns.Rollup.Split(", ")
            .Select(c => c == "cost_usd" ? "coalesce(sum(cost_usd), 0)" : $"coalesce(sum({c}), 0)::bigint")); // null when no event in a group has a latency
        var branches = live.Select((part, i) => Branch(part, i.ToString(CultureInfo.InvariantCulture), "", rollupKey, KeyExpression(groupBy),
            Scope(filter), columns));
        if (kept is not null)
        {
            branches = branches.Prepend(KeptBranch(columns));
        }

        var command = new NpgsqlCommand($"""
            WITH src (key, {columns.Rollup}) AS (
            {string.Join("\nUNION ALL\n", branches)})
            SELECT key, {sums}
            FROM src {tail}
            """, connection, transaction);
        AddScope(command, workspaceId, filter, dimension, below);
        AddParts(command, live, "");
        if (kept is not null)
        {
            command.Parameters.AddWithValue("kept_key", kept.Keys);
            foreach (var column in columns.Rollup.Split(", "))
            {
                command.Parameters.AddWithValue("kept_" + column, kept.Columns[column]);
            }
        }

        return command;
    }

    /// <summary>A row of <see cref="GroupCommand"/>: requests and spend only, or every sum.</summary>
    private static UsageRow ReadRow(NpgsqlDataReader reader, bool spendOnly)
    {
        if (spendOnly)
        {
            return Row(reader.GetString(0), reader.GetInt64(1), 0, 0, 0, reader.GetDecimal(2));
        }

        var latencyCount = reader.GetInt64(7);
        var buckets = Enumerable.Range(9, UsageRollupSql.Buckets.Length).Select(reader.GetInt64).ToArray();
        return Row(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetDecimal(5)) with
        {
            AvgLatencyMs = latencyCount == 0 ? null : Math.Round((double)reader.GetInt64(8) / latencyCount, 1),
            P95LatencyMs = UsageRollupSql.P95(buckets),
            UnpricedRequests = reader.GetInt64(6),
        };
    }

    /// <summary>What a usage query reads first, in its snapshot (<see cref="ReadHorizonAsync"/>).</summary>
    /// <param name="Below">The rollup horizon: events with a lower <c>ingest_xid</c> are in the rollups.</param>
    /// <param name="RawFrom">Where the workspace's raw events begin (its raw retention); null when it has no retention.</param>
    /// <param name="Generation">The workspace's rollup generation (<see cref="RollupGenerations"/>).</param>
    /// <param name="UnfoldedFrom">
    /// The oldest <c>occurred_at</c> among the workspace's events not folded in yet (table rollup_pending), null when there
    /// are none: the tail is read from there on, so it touches the partitions of the days that have such events, not all.
    /// </param>
    private sealed record Horizon(long Below, DateTimeOffset? RawFrom, long Generation, DateTimeOffset? UnfoldedFrom);

    /// <summary>
    /// One snapshot for the horizon and the rollups, so an event is counted in exactly one of them; the horizon goes in as a
    /// value so the planner sees how few rows the tail is and reads them by ingest_xid. Also where the workspace's raw events
    /// begin, and where its events not folded in yet do.
    /// </summary>
    private static async Task<Horizon> ReadHorizonAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId,
        CancellationToken ct)
    {
        // A custom plan each time: a cached generic plan cannot know that the tail is a few recent rows.
        await using var horizon = new NpgsqlCommand(
            "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = '64MB'; " +
            "SELECT processed_below_xid, (SELECT now() - make_interval(days => raw_retention_days) FROM workspaces WHERE id = @workspace), " +
            "coalesce((SELECT generation FROM usage_rollup_generations WHERE workspace_id = @workspace), 0), " +
            "(SELECT min(oldest) FROM rollup_pending WHERE workspace_id = @workspace AND ingest_xid >= processed_below_xid) " +
            "FROM rollup_state WHERE name = 'usage'",
            connection, transaction);
        horizon.Parameters.AddWithValue("workspace", workspaceId);
        await using var state = await horizon.ExecuteReaderAsync(ct);
        await state.ReadAsync(ct);
        return new Horizon(state.GetInt64(0), state.IsDBNull(1) ? null : state.GetFieldValue<DateTimeOffset>(1), state.GetInt64(2),
            state.IsDBNull(3) ? null : state.GetFieldValue<DateTimeOffset>(3));
    }

    /// <summary>
    /// Planned knowing where the workspace's raw events begin: users' and tenants' edge days may subtract raw events from a daily
    /// row only where raw retention has kept them all. Null: the range holds no whole rollup unit.
    /// </summary>
    private static RollupWindow? Plan(UsageFilter filter, string groupBy, DateTimeOffset? rawFrom) =>
        RollupWindow.For(filter.From, filter.To, filter.Now, dailyAllowed: groupBy != "hour",
            hourlyAllowed: !UsageRollupSql.DailyOnly.Contains(groupBy), rawFrom);

    private static (string Dimension, string Key) RollupKey(string groupBy) =>
        RollupKeys.TryGetValue(groupBy, out var special) ? special : (groupBy, "value");

    private static string Scope(UsageFilter filter) =>
        "workspace_id = @workspace AND data_mode = @mode" + (filter.Environment is null ? "" : " AND environment = @environment");

    /// <summary>
    /// One part of a window as a branch of its own, a plain range over an index: with ORs between them PostgreSQL reads the whole
    /// dimension's rows (or, for raw events, the whole table) and filters. <paramref name="lead"/> goes before the key ("1, ").
    /// </summary>
    private static string Branch(WindowPart part, string name, string lead, string rollupKey, string rawKey, string scope, BranchColumns columns) =>
        part.Source switch
        {
            PartSource.Rollup => $"""
                SELECT {lead}{rollupKey} AS key, {columns.Rollup}
                FROM usage_rollups
                WHERE {scope} AND dimension = @dimension AND period = '{part.Period}' AND bucket >= @from{name} AND bucket < @to{name}
                """,
            _ => $"""
                SELECT {lead}{rawKey} AS key, {(part.Source == PartSource.FoldedSubtracted ? columns.NegatedRaw : columns.Raw)}
                FROM llm_requests r {columns.RawJoin}
                WHERE {scope} AND r.occurred_at >= @from{name} AND r.occurred_at < @to{name}{part.Source switch
                {
                    PartSource.Unfolded => " AND r.ingest_xid >= @horizon",
                    PartSource.FoldedSubtracted or PartSource.Folded => " AND r.ingest_xid < @horizon",
                    _ => "",
                }}
                """,
        };

    private static void AddScope(NpgsqlCommand command, Guid workspaceId, UsageFilter filter, string dimension, long below)
    {
        command.Parameters.AddWithValue("horizon", below);
        command.Parameters.AddWithValue("workspace", workspaceId);
        command.Parameters.AddWithValue("mode", filter.DataMode);
        command.Parameters.AddWithValue("dimension", dimension);
        if (filter.Environment is not null)
        {
            command.Parameters.AddWithValue("environment", filter.Environment);
        }
    }

    private static void AddParts(NpgsqlCommand command, IReadOnlyList<WindowPart> parts, string prefix)
    {
        for (var i = 0; i < parts.Count; i++)
        {
            command.Parameters.AddWithValue($"from{prefix}{i}", parts[i].From);
            command.Parameters.AddWithValue($"to{prefix}{i}", parts[i].To);
        }
    }

    /// <summary>A group's row from its sums; latency and unpriced counts are added by the callers that read them.</summary>
    private static UsageRow Row(string key, long requests, long errors, long inputTokens, long outputTokens, decimal cost) =>
        new(key, requests, errors, inputTokens, outputTokens, Pricing.Money.Normalize(cost),
            requests == 0 ? 0 : Pricing.Money.Normalize(Math.Round(cost / requests, 10)), null, null, 0);
}
