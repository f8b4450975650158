using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;

namespace Opsmeter.Web.Features.Usage;

/// <summary>
/// Which events a figure covers: a half-open time range, a data mode, optionally an environment and dimension values.
/// <c>Now</c> is the present, when known: a range that reaches it can read the current week of users and tenants from one
/// rollup row.
/// </summary>
public sealed record UsageFilter(DateTimeOffset From, DateTimeOffset To, string DataMode = "real", string? Environment = null,
    IReadOnlyDictionary<string, string>? Dimensions = null, DateTimeOffset? Now = null);

/// <summary>The figures of one group (or of all events, for totals).</summary>
public sealed record UsageRow(string Key, long Requests, long Errors, long InputTokens, long OutputTokens, decimal CostUsd,
    decimal CostPerRequestUsd, double? AvgLatencyMs, double? P95LatencyMs, long UnpricedRequests);

/// <summary>
/// The usage figures that the dashboard and <c>GET /v1/metrics</c> share, so both always show the same
/// numbers. Without dimension filters they come from usage_rollups (see <see cref="RollupWorker"/>), read as
/// <see cref="RollupWindow"/> plans: rollup rows for the whole hours, days, weeks and months, raw events at the
/// edges and for the events not folded in yet, so the totals are exact while the work stays small over long ranges;
/// p95 is then read from latency buckets (<see cref="UsageRollupSql.P95"/>). With a dimension filter the
/// figures come from llm_requests alone, with an exact p95. Plain SQL throughout: LINQ cannot express
/// either. Every query is scoped by workspace first; names in SQL come only from the maps below.
/// </summary>
internal static partial class UsageQueries
{
    /// <summary>What a query can group by: every dimension (<see cref="Events.Dimensions"/>), and the UTC day or hour.</summary>
    public static readonly FrozenDictionary<string, string> Dimensions = Events.Dimensions.All
        .Select(d => KeyValuePair.Create(d.Name, d.GroupExpression()))
        .Append(KeyValuePair.Create("day", "to_char(date_trunc('day', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"))
        .Append(KeyValuePair.Create("hour", "to_char(date_trunc('hour', occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:00')"))
        .ToFrozenDictionary();

    private static readonly FrozenDictionary<string, string> FilterColumns = Events.Dimensions.All.ToFrozenDictionary(d => d.Name, d => d.Column);

    public static IEnumerable<string> FilterNames => Events.Dimensions.Names;

    public static async Task<UsageRow> TotalsAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, CancellationToken ct) =>
        (await RouteAsync(db, workspaceId, filter, "total", limit: 1, ct).ToListAsync(ct)).SingleOrDefault()
        ?? new UsageRow("total", 0, 0, 0, 0, 0, 0, null, null, 0);

    /// <summary>
    /// One row per value of <paramref name="groupBy"/>, by spend (or in time order for day and hour), at most
    /// <paramref name="limit"/>; <paramref name="page"/> narrows them to a search and to those after a cursor.
    /// </summary>
    public static Task<List<UsageRow>> GroupAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy,
        int limit, CancellationToken ct, GroupPage? page = null) =>
        RouteAsync(db, workspaceId, filter, groupBy, limit, ct, page: page).ToListAsync(ct).AsTask();

    /// <summary>
    /// Every value of <paramref name="groupBy"/> in the order of <see cref="GroupAsync"/>, read one row at a time: PostgreSQL
    /// groups, the caller writes each row on (summary.csv), so memory stays flat however many values there are.
    /// </summary>
    public static IAsyncEnumerable<UsageRow> StreamGroupsAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy,
        CancellationToken ct) =>
        RouteAsync(db, workspaceId, filter, groupBy, limit: null, ct);

    /// <summary>
    /// The top <paramref name="limit"/> values of <paramref name="groupBy"/> by spend with requests and spend only (errors,
    /// tokens and latency are zero): much cheaper where a dimension has thousands of values.
    /// </summary>
    public static Task<List<UsageRow>> TopBySpendAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy,
        int limit, CancellationToken ct) =>
        RouteAsync(db, workspaceId, filter, groupBy, limit, ct, spendOnly: true).ToListAsync(ct).AsTask();

    private static IAsyncEnumerable<UsageRow> RouteAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy, int? limit,
        CancellationToken ct, bool spendOnly = false, GroupPage? page = null) =>
        filter.Dimensions is { Count: > 0 }
            ? QueryAsync(db, workspaceId, filter, KeyExpression(groupBy), limit, page, ct, IsTime(groupBy))
            : QueryRollupsAsync(db, workspaceId, filter, groupBy, limit, spendOnly, page, ct);

    /// <summary>
    /// The HAVING conditions of <paramref name="page"/> over a grouped query whose group key is <paramref name="key"/> and
    /// whose spend is <paramref name="cost"/>: the cursor compares as the ORDER BY sorts, so pages neither repeat nor skip a row.
    /// </summary>
    private static string PageConditions(GroupPage? page, bool byTime, string key, string cost) =>
        (page?.Search is null ? "" : $" AND strpos(lower({key}), lower(@search)) > 0") +
        (page?.After is null ? "" : byTime ? $" AND {key} > @after_key" : $" AND ({cost} < @after_cost OR ({cost} = @after_cost AND {key} > @after_key))");

    private static void AddPage(NpgsqlCommand command, GroupPage? page)
    {
        if (page?.Search is { } search)
        {
            command.Parameters.AddWithValue("search", search);
        }

        if (page?.After is { } after)
        {
            command.Parameters.AddWithValue("after_key", after.Key);
            command.Parameters.AddWithValue("after_cost", after.CostUsd);
        }
    }

    /// <summary>" LIMIT n", or nothing for every row.</summary>
    private static string Limit(int? limit) =>
        limit is { } n ? " LIMIT " + n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";

    private static string KeyExpression(string groupBy) => groupBy == "total" ? "'total'" : Dimensions[groupBy];

    private static bool IsTime(string groupBy) => groupBy is "day" or "hour";

    /// <summary>
    /// Binds @workspace, @from, @to and @mode (which <paramref name="sql"/> already uses) and appends the environment and
    /// dimension conditions of <paramref name="filter"/>; column names come only from <see cref="FilterColumns"/>.
    /// </summary>
    public static void AddFilter(NpgsqlCommand command, StringBuilder sql, Guid workspaceId, UsageFilter filter)
    {
        command.Parameters.AddWithValue("workspace", workspaceId);
        command.Parameters.AddWithValue("from", filter.From.ToUniversalTime());
        command.Parameters.AddWithValue("to", filter.To.ToUniversalTime());
        command.Parameters.AddWithValue("mode", filter.DataMode);
        if (filter.Environment is not null)
        {
            sql.Append(" AND environment = @environment");
            command.Parameters.AddWithValue("environment", filter.Environment);
        }

        foreach (var (name, value) in filter.Dimensions ?? new Dictionary<string, string>())
        {
            sql.Append(System.Globalization.CultureInfo.InvariantCulture, $" AND {FilterColumns[name]} = @f_{name}");
            command.Parameters.AddWithValue($"f_{name}", value);
        }
    }

    private static async IAsyncEnumerable<UsageRow> QueryAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter,
        string keyExpression, int? limit, GroupPage? page, [EnumeratorCancellation] CancellationToken ct, bool byTime = false)
    {
        var sql = new StringBuilder($"""
            SELECT {keyExpression} AS key, count(*), count(*) FILTER (WHERE status = 'error'),
                   coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint, coalesce(sum(cost_usd), 0),
                   avg(latency_ms)::float8, percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),
                   count(*) FILTER (WHERE cost_status = 'unpriced')
            FROM llm_requests
            WHERE workspace_id = @workspace AND occurred_at >= @from AND occurred_at < @to AND data_mode = @mode
            """);
        await using var command = db.CreateCommand();
        AddFilter(command, sql, workspaceId, filter);

        sql.Append(System.Globalization.CultureInfo.InvariantCulture,
            $" GROUP BY 1 HAVING count(*) > 0{PageConditions(page, byTime, keyExpression, "coalesce(sum(cost_usd), 0)")} ORDER BY {(byTime ? "1" : "6 DESC, 1")}{Limit(limit)}");
        AddPage(command, page);
        command.CommandText = sql.ToString();

        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var requests = reader.GetInt64(1);
            var cost = reader.GetDecimal(5);
            yield return new UsageRow(reader.GetString(0), requests, reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                Pricing.Money.Normalize(cost), requests == 0 ? 0 : Pricing.Money.Normalize(Math.Round(cost / requests, 10)),
                reader.IsDBNull(6) ? null : Math.Round(reader.GetDouble(6), 1),
                reader.IsDBNull(7) ? null : Math.Round(reader.GetDouble(7), 1), reader.GetInt64(8));
        }
    }
}
