using System.Globalization;
using System.Text;
using Npgsql;

namespace Opsmeter.Web.Features.Usage;

/// <summary>One value of a dimension in two windows (requests, errors, tokens and spend; no latency).</summary>
internal sealed record ComparedGroup(string Key, UsageRow Current, UsageRow Baseline);

internal static partial class UsageQueries
{
    private static readonly BranchColumns CompareColumns = new("requests, errors, input_tokens, output_tokens, cost_usd",
        "1, (r.status = 'error')::int, r.input_tokens, r.output_tokens, r.cost_usd",
        "-1, -(r.status = 'error')::int, -r.input_tokens, -r.output_tokens, -r.cost_usd", "");

    /// <summary>
    /// Each value of <paramref name="groupBy"/> in both windows, ranked by the absolute change in spend and cut to
    /// <paramref name="limit"/> by PostgreSQL: the two windows are read as one grouped query (rollups where they serve, as
    /// <see cref="GroupAsync"/> reads them), so no window's every group is ever held here.
    /// </summary>
    public static async Task<List<ComparedGroup>> CompareGroupsAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter current,
        UsageFilter baseline, string groupBy, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var (below, rawFrom, _, unfoldedFrom) = await ReadHorizonAsync(connection, transaction, workspaceId, ct);
        await using var command = new NpgsqlCommand { Connection = connection, Transaction = transaction };
        var (dimension, rollupKey) = RollupKey(groupBy);
        AddScope(command, workspaceId, current, dimension, below);

        // Dimension filters are on raw events only (rollups hold one dimension each): then both windows are read raw.
        var scope = new StringBuilder(Scope(current));
        foreach (var (name, value) in current.Dimensions ?? new Dictionary<string, string>())
        {
            scope.Append(CultureInfo.InvariantCulture, $" AND {FilterColumns[name]} = @f_{name}");
            command.Parameters.AddWithValue($"f_{name}", value);
        }

        IReadOnlyList<WindowPart> Parts(UsageFilter window) =>
            current.Dimensions is not { Count: > 0 } && Plan(window, groupBy, rawFrom) is { } plan
                ? RollupWindow.CutTail(plan.Parts, unfoldedFrom)
                : [new(PartSource.Raw, window.From, window.To)];
        var (now, before) = (Parts(current), Parts(baseline));
        AddParts(command, now, "c");
        AddParts(command, before, "b");
        var branches = now.Select((part, i) => Branch(part, $"c{i}", "1, ", rollupKey, KeyExpression(groupBy), scope.ToString(), CompareColumns))
            .Concat(before.Select((part, i) => Branch(part, $"b{i}", "0, ", rollupKey, KeyExpression(groupBy), scope.ToString(), CompareColumns)));
        string Sum(string column, int side) =>
            $"coalesce(sum({column}) FILTER (WHERE side = {side}), 0){(column == "cost_usd" ? "" : "::bigint")}";
        var measures = CompareColumns.Rollup.Split(", ");
        command.CommandText = $"""
            WITH src (side, key, {CompareColumns.Rollup}) AS (
            {string.Join("\nUNION ALL\n", branches)})
            SELECT key, {string.Join(", ", measures.Select(m => Sum(m, 1)))}, {string.Join(", ", measures.Select(m => Sum(m, 0)))}
            FROM src GROUP BY key HAVING sum(requests) > 0
            ORDER BY abs({Sum("cost_usd", 1)} - {Sum("cost_usd", 0)}) DESC, key COLLATE "C"{Limit(limit)}
            """;

        var rows = new List<ComparedGroup>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var key = reader.GetString(0);
            UsageRow Side(int at) => Row(key, reader.GetInt64(at), reader.GetInt64(at + 1), reader.GetInt64(at + 2), reader.GetInt64(at + 3),
                reader.GetDecimal(at + 4));
            rows.Add(new ComparedGroup(key, Side(1), Side(6)));
        }

        return rows;
    }
}
