using System.Globalization;
using System.Text;
using Npgsql;

namespace Opsmeter.Web.Features.Usage;

/// <summary>
/// How a range splits over the rollups: [from, H1) and [H2, to) are partial hours (partial days for daily-only
/// dimensions) read raw; [H1, D1) and [D2, H2) whole hours; [D1, D2) whole days. Null when no whole unit fits.
/// </summary>
internal sealed record RollupWindow(DateTimeOffset From, DateTimeOffset H1, DateTimeOffset D1, DateTimeOffset D2, DateTimeOffset H2, DateTimeOffset To)
{
    /// <param name="from">Start of the range (inclusive).</param>
    /// <param name="to">End of the range (exclusive).</param>
    /// <param name="dailyAllowed">False when rows are wanted per hour.</param>
    /// <param name="hourlyAllowed">False for dimensions rolled up by day only: their edges are whole days read raw.</param>
    public static RollupWindow? For(DateTimeOffset from, DateTimeOffset to, bool dailyAllowed, bool hourlyAllowed = true)
    {
        from = from.ToUniversalTime();
        to = to.ToUniversalTime();
        var unit = hourlyAllowed ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var h1 = Ceiling(from, unit);
        var h2 = Floor(to, unit);
        if (h1 >= h2)
        {
            return null;
        }

        var d1 = Ceiling(h1, TimeSpan.FromDays(1));
        var d2 = Floor(h2, TimeSpan.FromDays(1));
        return dailyAllowed && d1 < d2 ? new RollupWindow(from, h1, d1, d2, h2, to) : new RollupWindow(from, h1, h2, h2, h2, to);
    }

    private static DateTimeOffset Floor(DateTimeOffset t, TimeSpan unit) => new(t.UtcTicks - (t.UtcTicks % unit.Ticks), TimeSpan.Zero);

    private static DateTimeOffset Ceiling(DateTimeOffset t, TimeSpan unit) => t.UtcTicks % unit.Ticks == 0 ? t : Floor(t, unit).Add(unit);
}

internal static partial class UsageQueries
{
    private static readonly Dictionary<string, (string Dimension, string Key)> RollupKeys = new()
    {
        ["total"] = ("total", "'total'"),
        ["day"] = ("total", "to_char(date_trunc('day', bucket, 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        ["hour"] = ("total", "to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00')"),
    };

    private static async Task<List<UsageRow>> QueryRollupsAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy,
        RollupWindow window, int limit, bool byTime, bool spendOnly, CancellationToken ct)
    {
        var (dimension, rollupKey) = RollupKeys.TryGetValue(groupBy, out var special) ? special : (groupBy, "value");
        var rawKey = groupBy == "total" ? "'total'" : Dimensions[groupBy];
        var scope = "workspace_id = @workspace AND data_mode = @mode" + (filter.Environment is null ? "" : " AND environment = @environment");
        // Spend only (the overview's top lists): two sums instead of twenty-four, and no latency bucket for raw rows.
        var (rollupColumns, rawColumns, rawJoin) = spendOnly
            ? ("requests, cost_usd", "1, r.cost_usd", "")
            : ($"{UsageRollupSql.Measures}, {UsageRollupSql.BucketColumns}", UsageRollupSql.RawMeasures, UsageRollupSql.RawBucketJoin);
        var sums = string.Join(", ", rollupColumns.Split(", ")
            .Select(c => c == "cost_usd" ? "coalesce(sum(cost_usd), 0)" : $"coalesce(sum({c}), 0)::bigint")); // null when no event in a group has a latency
        var costColumn = spendOnly ? 3 : 6;
        // The two raw edges are separate branches: with an OR between them PostgreSQL scans the whole table.
        var sql = new StringBuilder($"""
            WITH src AS (
                SELECT {rollupKey} AS key, {rollupColumns}
                FROM usage_rollups
                WHERE {scope} AND dimension = @dimension
                  AND ((period = 'h' AND ((bucket >= @h1 AND bucket < @d1) OR (bucket >= @d2 AND bucket < @h2)))
                    OR (period = 'd' AND bucket >= @d1 AND bucket < @d2))
                UNION ALL
                SELECT {rawKey}, {rawColumns}
                FROM llm_requests r {rawJoin}
                WHERE {scope} AND r.occurred_at >= @from AND r.occurred_at < @h1
                UNION ALL
                SELECT {rawKey}, {rawColumns}
                FROM llm_requests r {rawJoin}
                WHERE {scope} AND r.occurred_at >= @h2 AND r.occurred_at < @to
                UNION ALL
                SELECT {rawKey}, {rawColumns}
                FROM llm_requests r {rawJoin}
                WHERE r.ingest_xid >= @horizon AND {scope} AND r.occurred_at >= @h1 AND r.occurred_at < @h2)
            SELECT key, {sums}
            FROM src GROUP BY key HAVING sum(requests) > 0
            ORDER BY {(byTime ? "1" : $"{costColumn} DESC, 1")} LIMIT {limit.ToString(CultureInfo.InvariantCulture)}
            """);
        // One snapshot for the horizon and the rollups, so an event is counted in exactly one of them; the
        // horizon goes in as a value so the planner sees how few rows the tail is and reads them by ingest_xid.
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        // A custom plan each time: a cached generic plan cannot know that the tail is a few recent rows.
        await using var horizon = new NpgsqlCommand(
            "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = '64MB'; SELECT processed_below_xid FROM rollup_state WHERE name = 'usage'",
            connection, transaction);
        var below = (long)(await horizon.ExecuteScalarAsync(ct))!;
        await using var command = new NpgsqlCommand(sql.ToString(), connection, transaction);
        command.Parameters.AddWithValue("horizon", below);
        command.Parameters.AddWithValue("workspace", workspaceId);
        command.Parameters.AddWithValue("mode", filter.DataMode);
        command.Parameters.AddWithValue("dimension", dimension);
        if (filter.Environment is not null)
        {
            command.Parameters.AddWithValue("environment", filter.Environment);
        }

        foreach (var (name, value) in new[] { ("from", window.From), ("h1", window.H1), ("d1", window.D1), ("d2", window.D2), ("h2", window.H2), ("to", window.To) })
        {
            command.Parameters.AddWithValue(name, value);
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
