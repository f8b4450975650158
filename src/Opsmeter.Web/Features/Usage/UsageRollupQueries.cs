using System.Globalization;
using Npgsql;

namespace Opsmeter.Web.Features.Usage;

internal static partial class UsageQueries
{
    private static readonly Dictionary<string, (string Dimension, string Key)> RollupKeys = new()
    {
        ["total"] = ("total", "'total'"),
        ["day"] = ("total", "to_char(date_trunc('day', bucket, 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        ["hour"] = ("total", "to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00')"),
    };

    private static async Task<List<UsageRow>> QueryRollupsAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy,
        int limit, bool spendOnly, CancellationToken ct)
    {
        var byTime = IsTime(groupBy);
        // One snapshot for the horizon and the rollups, so an event is counted in exactly one of them; the
        // horizon goes in as a value so the planner sees how few rows the tail is and reads them by ingest_xid.
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        // A custom plan each time: a cached generic plan cannot know that the tail is a few recent rows.
        await using var horizon = new NpgsqlCommand(
            "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = '64MB'; " +
            "SELECT processed_below_xid, (SELECT now() - make_interval(days => raw_retention_days) FROM workspaces WHERE id = @workspace) " +
            "FROM rollup_state WHERE name = 'usage'",
            connection, transaction);
        horizon.Parameters.AddWithValue("workspace", workspaceId);
        long below;
        DateTimeOffset? rawFrom;
        await using (var state = await horizon.ExecuteReaderAsync(ct))
        {
            await state.ReadAsync(ct);
            (below, rawFrom) = (state.GetInt64(0), state.IsDBNull(1) ? null : state.GetFieldValue<DateTimeOffset>(1));
        }

        // Planned knowing where the workspace's raw events begin: users' and tenants' edge days may subtract raw events
        // from a daily row only where raw retention has kept them all. No plan: the range holds no whole rollup unit.
        if (RollupWindow.For(filter.From, filter.To, filter.Now, dailyAllowed: groupBy != "hour",
                hourlyAllowed: !UsageRollupSql.DailyOnly.Contains(groupBy), rawFrom) is not { } window)
        {
            // Give the connection back before the raw query takes one.
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
            return await QueryAsync(db, workspaceId, filter, KeyExpression(groupBy), limit, ct, byTime);
        }

        var (dimension, rollupKey) = RollupKeys.TryGetValue(groupBy, out var special) ? special : (groupBy, "value");
        var rawKey = KeyExpression(groupBy);
        var scope = "workspace_id = @workspace AND data_mode = @mode" + (filter.Environment is null ? "" : " AND environment = @environment");
        // Spend only (the overview's top lists): two sums instead of twenty-four, and no latency bucket for raw rows.
        var (rollupColumns, rawColumns, negatedRawColumns, rawJoin) = spendOnly
            ? ("requests, cost_usd", "1, r.cost_usd", "-1, -r.cost_usd", "")
            : ($"{UsageRollupSql.Measures}, {UsageRollupSql.BucketColumns}", UsageRollupSql.RawMeasures, UsageRollupSql.NegatedRawMeasures,
                UsageRollupSql.RawBucketJoin);
        var sums = string.Join(", ", rollupColumns.Split(", ")
            .Select(c => c == "cost_usd" ? "coalesce(sum(cost_usd), 0)" : $"coalesce(sum({c}), 0)::bigint")); // null when no event in a group has a latency
        var costColumn = spendOnly ? 3 : 6;
        // Each part is a branch of its own, a plain range over an index: with ORs between them PostgreSQL reads the whole
        // dimension's rows (or, for raw events, the whole table) and filters.
        var branches = window.Parts.Select((part, i) => part.Source switch
        {
            PartSource.Rollup => $"""
                SELECT {rollupKey} AS key, {rollupColumns}
                FROM usage_rollups
                WHERE {scope} AND dimension = @dimension AND period = '{part.Period}' AND bucket >= @from{i} AND bucket < @to{i}
                """,
            _ => $"""
                SELECT {rawKey} AS key, {(part.Source == PartSource.FoldedSubtracted ? negatedRawColumns : rawColumns)}
                FROM llm_requests r {rawJoin}
                WHERE {scope} AND r.occurred_at >= @from{i} AND r.occurred_at < @to{i}{part.Source switch
                {
                    PartSource.Unfolded => " AND r.ingest_xid >= @horizon",
                    PartSource.FoldedSubtracted => " AND r.ingest_xid < @horizon",
                    _ => "",
                }}
                """,
        });
        var sql = $"""
            WITH src (key, {rollupColumns}) AS (
            {string.Join("\nUNION ALL\n", branches)})
            SELECT key, {sums}
            FROM src GROUP BY key HAVING sum(requests) > 0
            ORDER BY {(byTime ? "1" : $"{costColumn} DESC, 1")} LIMIT {limit.ToString(CultureInfo.InvariantCulture)}
            """;
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue("horizon", below);
        command.Parameters.AddWithValue("workspace", workspaceId);
        command.Parameters.AddWithValue("mode", filter.DataMode);
        command.Parameters.AddWithValue("dimension", dimension);
        if (filter.Environment is not null)
        {
            command.Parameters.AddWithValue("environment", filter.Environment);
        }

        for (var i = 0; i < window.Parts.Count; i++)
        {
            command.Parameters.AddWithValue($"from{i}", window.Parts[i].From);
            command.Parameters.AddWithValue($"to{i}", window.Parts[i].To);
        }

        var rows = new List<UsageRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (spendOnly)
            {
                var (count, spend) = (reader.GetInt64(1), reader.GetDecimal(2));
                rows.Add(new UsageRow(reader.GetString(0), count, 0, 0, 0, Pricing.Money.Normalize(spend),
                    count == 0 ? 0 : Pricing.Money.Normalize(Math.Round(spend / count, 10)), null, null, 0));
                continue;
            }

            var requests = reader.GetInt64(1);
            var cost = reader.GetDecimal(5);
            var latencyCount = reader.GetInt64(7);
            var buckets = Enumerable.Range(9, UsageRollupSql.Buckets.Length).Select(reader.GetInt64).ToArray();
            rows.Add(new UsageRow(reader.GetString(0), requests, reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                Pricing.Money.Normalize(cost), requests == 0 ? 0 : Pricing.Money.Normalize(Math.Round(cost / requests, 10)),
                latencyCount == 0 ? null : Math.Round((double)reader.GetInt64(8) / latencyCount, 1),
                UsageRollupSql.P95(buckets), reader.GetInt64(6)));
        }

        return rows;
    }
}
