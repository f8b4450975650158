using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Memory;

namespace Opsmeter.Web.Features.Usage;

/// <summary>
/// A window's rollup parts over finished days, summed per group, as they were at a workspace's rollup generation
/// (<see cref="Events.RollupGenerations"/>): the columns of <see cref="UsageRollupSql.Measures"/> and
/// <see cref="UsageRollupSql.Buckets"/>, one array per column, ready to be sent back to PostgreSQL as one branch of a query.
/// </summary>
internal sealed record FinishedSums(string[] Keys, IReadOnlyDictionary<string, Array> Columns)
{
    /// <summary>
    /// Most groups one entry keeps; a dimension with more values is read from its rollup rows every time, so that one
    /// workspace's million distinct users cannot take the cache (or the memory) of all.
    /// </summary>
    public const int MaxGroups = 50_000;

    /// <summary>The entry of a window with more than <see cref="MaxGroups"/> groups.</summary>
    public static readonly FinishedSums TooMany = new([], new Dictionary<string, Array>());

    // Groups kept in all, over every entry: a group of 24 sums is ~270 bytes with its key, so ~55 MB at most, well inside the
    // server's 400 MB (product.md); past it the least recently used entries go.
    private const long Capacity = 200_000;

    // One cache per data source, so per app: each test host, with its own database, has its own.
    private static readonly ConditionalWeakTable<object, MemoryCache> Caches = [];

    /// <summary>
    /// The sums of <paramref name="parts"/> per group, in the same column layout; <see cref="TooMany"/> when they hold more
    /// than <see cref="MaxGroups"/> groups between them.
    /// </summary>
    public static FinishedSums Sum(IReadOnlyList<FinishedSums> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var at = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in parts.SelectMany(p => p.Keys))
        {
            at.TryAdd(key, at.Count);
        }

        if (at.Count > MaxGroups)
        {
            return TooMany;
        }

        var columns = parts[0].Columns.ToDictionary(c => c.Key, c => c.Value is long[] ? (Array)new long[at.Count] : new decimal[at.Count]);
        foreach (var part in parts)
        {
            var rows = Array.ConvertAll(part.Keys, key => at[key]);
            foreach (var (name, total) in columns)
            {
                switch (total, part.Columns[name])
                {
                    case (long[] counts, long[] added):
                        for (var i = 0; i < rows.Length; i++)
                        {
                            counts[rows[i]] += added[i];
                        }

                        break;
                    case (decimal[] amounts, decimal[] added):
                        for (var i = 0; i < rows.Length; i++)
                        {
                            amounts[rows[i]] += added[i];
                        }

                        break;
                    default:
                        throw new InvalidOperationException($"Kept column {name} differs between parts.");
                }
            }
        }

        var keys = new string[at.Count];
        foreach (var (key, row) in at)
        {
            keys[row] = key;
        }

        return new FinishedSums(keys, columns);
    }

    /// <summary>These sums for <paramref name="keys"/> alone (the ranked rows of an answer), in the same column layout.</summary>
    public FinishedSums Only(IReadOnlyCollection<string> keys)
    {
        var wanted = keys.ToHashSet(StringComparer.Ordinal);
        var at = Enumerable.Range(0, Keys.Length).Where(i => wanted.Contains(Keys[i])).ToArray();
        return new FinishedSums([.. at.Select(i => Keys[i])], Columns.ToDictionary(c => c.Key, c => Pick(c.Value, at)));
    }

    private static Array Pick(Array column, int[] at) => column switch
    {
        long[] counts => at.Select(i => counts[i]).ToArray(),
        decimal[] amounts => at.Select(i => amounts[i]).ToArray(),
        _ => throw new InvalidOperationException($"A kept column of {column.GetType()}."),
    };

    /// <summary>The cache of the app whose data source is <paramref name="owner"/>.</summary>
    public static MemoryCache For(object owner) => Caches.GetValue(owner, _ => new MemoryCache(new MemoryCacheOptions { SizeLimit = Capacity }));

    /// <summary>
    /// Keeps <paramref name="sums"/> under <paramref name="key"/>: for <paramref name="lifetime"/> when given (sums that a
    /// moving window stops asking for within minutes), else until no request has used them for an hour.
    /// </summary>
    public static void Keep(MemoryCache cache, string key, FinishedSums sums, TimeSpan? lifetime = null) =>
        cache.Set(key, sums, new MemoryCacheEntryOptions
        {
            Size = Math.Max(1, sums.Keys.Length),
            SlidingExpiration = lifetime is null ? TimeSpan.FromHours(1) : null,
            AbsoluteExpirationRelativeToNow = lifetime,
        });
}
