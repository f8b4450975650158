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
    /// <remarks>
    /// Each part is kept on its own, and a window's sums are added up from its parts each time (a few milliseconds for
    /// thousands of groups; kept as well, they would take the cache twice): a preset's start is the present less its
    /// length, so it moves every minute, and the window a minute or an hour later then reads only the parts that moved
    /// (the edge's minutes, or its hours) and takes the runs of rollup rows (days, weeks, months) from the cache. Sums of an
    /// edge's minutes are kept for two minutes: by then the window has moved on.
    /// </remarks>
    private static async Task<FinishedSums?> KeptSumsAsync(NpgsqlDataSource db, NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid workspaceId, UsageFilter filter, string groupBy, long generation, long below, List<WindowPart> finished, CancellationToken ct)
    {
        var cache = FinishedSums.For(db);
        var scope = string.Join('|', workspaceId, generation, filter.DataMode, filter.Environment ?? "", groupBy);
        var window = scope + "|window|" + string.Join(';', finished.Select(Describe));
        if (cache.TryGetValue(window, out _))
        {
            return null; // only a window of too many groups is kept whole
        }

        var parts = new List<FinishedSums>();
        foreach (var piece in finished)
        {
            var pieceKey = scope + "|" + Describe(piece);
            if (!cache.TryGetValue(pieceKey, out FinishedSums? part) || part is null)
            {
                part = await ReadSumsAsync(connection, transaction, workspaceId, filter, groupBy, below, piece, ct);
                FinishedSums.Keep(cache, pieceKey, part, WholeHours(piece) ? null : Moving);
            }

            if (ReferenceEquals(part, FinishedSums.TooMany))
            {
                // Too many to keep: the parts are read from their rows each time.
                return null;
            }

            parts.Add(part);
        }

        var sums = FinishedSums.Sum(parts);
        if (ReferenceEquals(sums, FinishedSums.TooMany))
        {
            FinishedSums.Keep(cache, window, sums, Moving);
            return null;
        }

        return sums;
    }

    /// <summary>How long the sums of a moving window's parts are kept (<see cref="KeptSumsAsync"/>).</summary>
    private static readonly TimeSpan Moving = TimeSpan.FromMinutes(2);

    private static bool WholeHours(WindowPart part) => part.From.Minute == 0 && part.To.Minute == 0;

    private static string Describe(WindowPart part) =>
        string.Create(CultureInfo.InvariantCulture, $"{part.Source}{part.Period}{part.From.UtcTicks}-{part.To.UtcTicks}");

    /// <summary>One part's sums per group, read in the query's snapshot; <see cref="FinishedSums.TooMany"/> past the groups an entry keeps.</summary>
    private static async Task<FinishedSums> ReadSumsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId,
        UsageFilter filter, string groupBy, long below, WindowPart part, CancellationToken ct)
    {
        var names = AllColumns.Rollup.Split(", ");
        await using var command = GroupCommand(connection, transaction, workspaceId, filter, groupBy, below, [part], kept: null, AllColumns,
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
                    return FinishedSums.TooMany;
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

        return new FinishedSums([.. keys], counts.ToDictionary(c => c.Key, c => (Array)c.Value.ToArray())
            .Append(KeyValuePair.Create("cost_usd", (Array)cost.ToArray())).ToDictionary());
    }

    /// <summary>Kept sums (<see cref="KeptSumsAsync"/>) as a branch: the arrays sent as parameters, unnested into rows.</summary>
    private static string KeptBranch(BranchColumns columns) =>
        $"SELECT * FROM unnest(@kept_key::text[], {string.Join(", ", columns.Rollup.Split(", ").Select(c => $"@kept_{c}::{(c == "cost_usd" ? "numeric" : "bigint")}[]"))}) " +
        $"AS kept(key, {columns.Rollup})";
}
