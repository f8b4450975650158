using Microsoft.AspNetCore.Http.HttpResults;

namespace Opsmeter.Web.Features.Pricing;

public sealed record PricingModelResponse(
    Guid Id, string Provider, string Model, IReadOnlyList<string> Aliases, string Kind, string ServiceTier,
    decimal InputPerMillionUsd, decimal OutputPerMillionUsd, decimal? CachedInputPerMillionUsd,
    decimal? CacheWritePerMillionUsd, decimal? CacheWrite1hPerMillionUsd, decimal? ReasoningPerMillionUsd, long? LongContextThresholdTokens,
    decimal? LongContextInputPerMillionUsd, decimal? LongContextOutputPerMillionUsd,
    decimal? LongContextCachedInputPerMillionUsd, decimal? LongContextCacheWritePerMillionUsd, decimal? LongContextCacheWrite1hPerMillionUsd,
    DateTimeOffset EffectiveFrom, string Source)
{
    internal static PricingModelResponse From(ListedPrice listed) => From(listed.Row, listed.Aliases);

    private static PricingModelResponse From(ModelPrice p, IReadOnlyList<string> aliases) => new(
        p.Id, p.Provider, p.Model, aliases, p.Kind, p.ServiceTier, Money.Normalize(p.InputPerMillionUsd), Money.Normalize(p.OutputPerMillionUsd),
        Money.Normalize(p.CachedInputPerMillionUsd), Money.Normalize(p.CacheWritePerMillionUsd), Money.Normalize(p.CacheWrite1hPerMillionUsd),
        Money.Normalize(p.ReasoningPerMillionUsd), p.LongContextThresholdTokens, Money.Normalize(p.LongContextInputPerMillionUsd),
        Money.Normalize(p.LongContextOutputPerMillionUsd), Money.Normalize(p.LongContextCachedInputPerMillionUsd),
        Money.Normalize(p.LongContextCacheWritePerMillionUsd), Money.Normalize(p.LongContextCacheWrite1hPerMillionUsd), p.EffectiveFrom, p.Source);
}

internal static class ListPricingModels
{
    /// <summary>
    /// The global catalog's prices in force now, or at <paramref name="at"/>, optionally for one provider: the standard rows
    /// (one per provider and model), or one tier's rows with <paramref name="serviceTier"/>, or every row with <c>all</c>.
    /// </summary>
    public static Ok<PricingModelResponse[]> Handle(PriceCatalog catalog, TimeProvider clock, DateTimeOffset? at, string? provider,
        string? serviceTier)
    {
        var rows = catalog.InForceAt(at ?? clock.GetUtcNow());
        var tier = ServiceTiers.Normalize(serviceTier);
        if (tier != "all")
        {
            rows = rows.Where(p => p.Row.ServiceTier == tier);
        }

        if (!string.IsNullOrWhiteSpace(provider))
        {
            var wanted = Providers.Normalize(provider);
            rows = rows.Where(p => p.Row.Provider == wanted);
        }

        return TypedResults.Ok(rows.Select(PricingModelResponse.From).ToArray());
    }
}
