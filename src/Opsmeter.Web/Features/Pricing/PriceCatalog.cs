using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>The row that prices an event in its service tier, and the factor the tier applies to that row's prices.</summary>
internal sealed record TierPrice(ModelPrice Row, decimal Multiplier);

/// <summary>A row of the public listing, with the names that reach it at the listing's moment.</summary>
internal sealed record ListedPrice(ModelPrice Row, IReadOnlyList<string> Aliases);

/// <summary>
/// The price rows in memory, indexed for matching, so that pricing an event costs microseconds and no
/// database round trip. The snapshot is immutable and swapped whole by <see cref="Load"/> when prices
/// change.
/// </summary>
internal sealed class PriceCatalog
{
    // Names are what clients send, so the memory of them is bounded: past this many, new names are matched each time.
    private const int MaxRememberedNames = 10_000;
    private volatile Snapshot snapshot = Snapshot.Empty;

    public int Count => snapshot.ById.Count;

    public void Load(IEnumerable<ModelPrice> rows) => snapshot = Snapshot.Build(rows);

    public ModelPrice? FindById(Guid id) => snapshot.ById.GetValueOrDefault(id);

    /// <summary>The price in force at <paramref name="at"/> for <paramref name="model"/>: the first of its <see cref="Matches"/> with a version in force.</summary>
    public ModelPrice? Find(Guid workspaceId, string provider, string model, DateTimeOffset at)
    {
        var current = snapshot;
        // Which rows a name can match does not depend on the time: work it out once per name (and per workspace,
        // when workspaces have prices of their own), then only pick the version in force.
        var name = (current.HasOverrides ? workspaceId : Guid.Empty, provider, model);
        if (!current.Matches.TryGetValue(name, out var matches))
        {
            matches = Matches(current, workspaceId, provider, model);
            if (current.Matches.Count < MaxRememberedNames)
            {
                current.Matches.TryAdd(name, matches);
            }
        }

        foreach (var versions in matches)
        {
            if (InForce(versions, at) is { } price)
            {
                return price;
            }
        }

        return null;
    }

    /// <summary>
    /// What a call costs: the row in force for its name at <paramref name="at"/>, in its service tier, and the cost parts.
    /// A tier without a published price is priced at the standard price (<c>TierUnpublished</c>: say so to the client).
    /// Null price: nothing covers the name then.
    /// </summary>
    public (ModelPrice? Price, CostBreakdown Cost, bool TierUnpublished) Price(Guid workspaceId, string provider, string model, DateTimeOffset at,
        string tier, TokenUsage usage)
    {
        if (Find(workspaceId, provider, model, at) is not { } standard)
        {
            return (null, CostBreakdown.Zero, false);
        }

        return InTier(standard, tier, at) is { } inTier
            ? (inTier.Row, CostCalculator.Calculate(inTier.Row, usage, inTier.Multiplier), false)
            : (standard, CostCalculator.Calculate(standard, usage), true);
    }

    /// <summary>
    /// The price of <paramref name="standard"/>'s model in <paramref name="tier"/> at <paramref name="at"/>: the model's
    /// own row of that tier, else the standard row times the provider's published multiplier, else null (no published price).
    /// </summary>
    public TierPrice? InTier(ModelPrice standard, string tier, DateTimeOffset at)
    {
        if (tier == ServiceTiers.Standard)
        {
            return new TierPrice(standard, 1m);
        }

        if (snapshot.ByTier.TryGetValue((standard.WorkspaceId ?? Guid.Empty, standard.Provider, standard.Model, tier), out var versions)
            && InForce(versions, at) is { } row)
        {
            return new TierPrice(row, 1m);
        }

        return ServiceTiers.Multiplier(standard.Provider, tier) is { } multiplier ? new TierPrice(standard, multiplier) : null;
    }

    /// <summary>
    /// The rows in force at <paramref name="at"/> in the global catalog, for the public listing, each with the names that
    /// reach it then. A standard row is listed while its own name reaches it, with those of its aliases that do: an
    /// alias that a newer row carries has moved to that row (<c>gpt-4o</c> was <c>gpt-4o-2024-05-13</c> until
    /// 2024-10-02), and a row whose own name has moved is not listed (the row that name reaches is).
    /// </summary>
    public IEnumerable<ListedPrice> InForceAt(DateTimeOffset at)
    {
        var current = snapshot;
        var newest = current.ById.Values
            .Where(p => p.WorkspaceId is null && p.RetiredAt is null && p.EffectiveFrom <= at)
            .GroupBy(p => (p.Provider, p.Model, p.ServiceTier))
            .Select(g => g.MaxBy(p => p.EffectiveFrom)!);
        var listed = new List<ListedPrice>();
        foreach (var row in newest)
        {
            if (row.ServiceTier != ServiceTiers.Standard)
            {
                listed.Add(new ListedPrice(row, row.Aliases));
            }
            else if (Reaches(current, row, row.Model, at))
            {
                listed.Add(new ListedPrice(row, [.. row.Aliases.Where(alias => Reaches(current, row, alias, at))]));
            }
        }

        return listed
            .OrderBy(p => p.Row.Provider, StringComparer.Ordinal).ThenBy(p => p.Row.Model, StringComparer.Ordinal)
            .ThenBy(p => p.Row.ServiceTier == ServiceTiers.Standard ? "" : p.Row.ServiceTier, StringComparer.Ordinal);
    }

    /// <summary>Whether the global catalog's exact entry for <paramref name="name"/> gives <paramref name="row"/> at <paramref name="at"/>.</summary>
    private static bool Reaches(Snapshot current, ModelPrice row, string name, DateTimeOffset at) =>
        current.ByKey.TryGetValue((Guid.Empty, Providers.Normalize(row.Provider), ModelNames.Key(name)), out var versions)
        && InForce(versions, at)?.Id == row.Id;

    /// <summary>
    /// The price rows <paramref name="model"/> can match, in the order to try them: the provider itself before its
    /// fallbacks, the most specific spelling of the name before shorter ones, and for each spelling the
    /// workspace's own override before the global catalog. A name that carries a date stamp never falls back to a row
    /// of another date (<c>mistral-medium-2604</c> is not the retired <c>mistral-medium-2312</c>, whatever its aliases),
    /// nor to the versions of a shorter name that another dated row carried for a while: <c>gpt-4o-2024-08-06</c> is
    /// priced by <c>gpt-4o</c>'s own rows, never by <c>gpt-4o-2024-05-13</c>, which carried the alias <c>gpt-4o</c>
    /// until 2024-10-02.
    /// </summary>
    private static ModelPrice[][] Matches(Snapshot current, Guid workspaceId, string provider, string model)
    {
        var canonicalProvider = Providers.Normalize(provider);
        Guid[] owners = current.HasOverrides ? [workspaceId, Guid.Empty] : [Guid.Empty];
        var date = ModelNames.DateStamp(model);
        var matches = new List<ModelPrice[]>();
        foreach (var candidateProvider in Providers.Fallbacks(canonicalProvider, model).Prepend(canonicalProvider))
        {
            foreach (var key in ModelNames.Candidates(model))
            {
                var dateTakenOff = date is not null && ModelNames.DateStamp(key) != date;
                foreach (var owner in owners)
                {
                    if (current.ByKey.TryGetValue((owner, candidateProvider, key), out var versions)
                        && (dateTakenOff ? OfDate(versions, date!) : versions) is { Length: > 0 } usable)
                    {
                        matches.Add(usable);
                    }
                }
            }
        }

        return [.. matches];
    }

    /// <summary>The versions whose row carries no date stamp, or <paramref name="date"/>.</summary>
    private static ModelPrice[] OfDate(ModelPrice[] versions, string date) =>
        [.. versions.Where(p => ModelNames.DateStamp(p.Model) is not { } rowDate || rowDate == date)];

    private static ModelPrice? InForce(ModelPrice[] versionsNewestFirst, DateTimeOffset at)
    {
        foreach (var price in versionsNewestFirst)
        {
            if (price.EffectiveFrom <= at)
            {
                return price;
            }
        }

        return null;
    }

    private sealed record Snapshot(
        FrozenDictionary<(Guid Owner, string Provider, string Key), ModelPrice[]> ByKey,
        FrozenDictionary<(Guid Owner, string Provider, string Model, string Tier), ModelPrice[]> ByTier,
        FrozenDictionary<Guid, ModelPrice> ById,
        bool HasOverrides)
    {
        /// <summary>What each name sent so far matches; dropped with the snapshot when prices change.</summary>
        public ConcurrentDictionary<(Guid Owner, string Provider, string Model), ModelPrice[][]> Matches { get; } = new();

        public static readonly Snapshot Empty = Build([]);

        public static Snapshot Build(IEnumerable<ModelPrice> rows)
        {
            var all = rows.ToList();
            // Retired rows price nothing, but stay findable by id: the events they priced still point at them.
            var byKey = all.Where(p => p.ServiceTier == ServiceTiers.Standard && p.RetiredAt is null)
                .SelectMany(p => p.Aliases.Prepend(p.Model).Select(name =>
                    (Key: (p.WorkspaceId ?? Guid.Empty, Providers.Normalize(p.Provider), ModelNames.Key(name)), Price: p)))
                .GroupBy(x => x.Key, x => x.Price)
                // Newest first; on the same day, the row of that very name before a row that carries it as an alias.
                .ToFrozenDictionary(g => g.Key, g => g.Distinct().OrderByDescending(p => p.EffectiveFrom)
                    .ThenBy(p => ModelNames.Key(p.Model) == g.Key.Item3 ? 0 : 1).ToArray());
            var byTier = all.Where(p => p.ServiceTier != ServiceTiers.Standard && p.RetiredAt is null)
                .GroupBy(p => (p.WorkspaceId ?? Guid.Empty, p.Provider, p.Model, p.ServiceTier))
                .ToFrozenDictionary(g => g.Key, g => g.OrderByDescending(p => p.EffectiveFrom).ToArray());
            return new Snapshot(byKey, byTier, all.ToFrozenDictionary(p => p.Id), all.Any(p => p.WorkspaceId is not null));
        }
    }
}
