using System.Globalization;
using Npgsql;

namespace Opsmeter.Web.Features.Usage;

// The kept sums of a window's finished parts (FinishedSums): read once per rollup generation, then sent back by each query.
internal static partial class UsageQueries
{
    /// <summary>
    /// The sums per group of <paramref name="finished"/> (rollup parts over finished days) at the workspace's
    /// <paramref name="generation"/>: kept from an earlier query, or read now in this query's snapshot, in which the
    /// generation was read, and kept. Null when the dimension has more values than an entry keeps.
    /// </summary>
    private static async Task<FinishedSums?> KeptSumsAsync(NpgsqlDataSource db, NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid workspaceId, UsageFilter filter, string groupBy, long generation, long below, List<WindowPart> finished, CancellationToken ct)
    {
        var cache = FinishedSums.For(db);
        var key = string.Join('|', workspaceId, generation, filter.DataMode, filter.Environment ?? "", groupBy,
            string.Join(';', finished.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Source}{p.Period}{p.From.UtcTicks}-{p.To.UtcTicks}"))));
        if (cache.TryGetValue(key, out FinishedSums? sums))
        {
            return ReferenceEquals(sums, FinishedSums.TooMany) ? null : sums;
        }

        var names = AllColumns.Rollup.Split(", ");
        await using var command = GroupCommand(connection, transaction, workspaceId, filter, groupBy, below, finished, kept: null, AllColumns,
            "GROUP BY key");
        var keys = new List<string>();
        var counts = names.Where(c => c != "cost_usd").ToDictionary(c => c, _ => new List<long>());
        var cost = new List<decimal>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                if (keys.Count == FinishedSums.MaxGroups)
                {
                    // Too many to keep: a marker says so, and the parts are read from their rows each time.
                    FinishedSums.Keep(cache, key, FinishedSums.TooMany);
                    return null;
                }

                keys.Add(reader.GetString(0));

                for (var i = 0; i < names.Length; i++)
                {
                    if (names[i] == "cost_usd")
                    {
                        cost.Add(reader.GetDecimal(i + 1));
                    }
                    else
                    {
                        counts[names[i]].Add(reader.GetInt64(i + 1));
                    }
                }
            }
        }

        sums = new FinishedSums([.. keys], counts.ToDictionary(c => c.Key, c => (Array)c.Value.ToArray()).Append(KeyValuePair.Create("cost_usd", (Array)cost.ToArray()))
            .ToDictionary());
        FinishedSums.Keep(cache, key, sums);
        return sums;
    }

    /// <summary>Kept sums (<see cref="KeptSumsAsync"/>) as a branch: the arrays sent as parameters, unnested into rows.</summary>
    private static string KeptBranch(BranchColumns columns) =>
        $"SELECT * FROM unnest(@kept_key::text[], {string.Join(", ", columns.Rollup.Split(", ").Select(c => $"@kept_{c}::{(c == "cost_usd" ? "numeric" : "bigint")}[]"))}) " +
        $"AS kept(key, {columns.Rollup})";
}
