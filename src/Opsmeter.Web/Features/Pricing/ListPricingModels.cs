using Microsoft.AspNetCore.Http.HttpResults;

namespace Opsmeter.Web.Features.Pricing;

public sealed record PricingModelResponse(
    Guid Id, string Provider, string Model, IReadOnlyList<string> Aliases, string Kind,
    decimal InputPerMillionUsd, decimal OutputPerMillionUsd, decimal? CachedInputPerMillionUsd,
    decimal? CacheWritePerMillionUsd, decimal? ReasoningPerMillionUsd, long? LongContextThresholdTokens,
    decimal? LongContextInputPerMillionUsd, decimal? LongContextOutputPerMillionUsd,
    decimal? LongContextCachedInputPerMillionUsd, decimal? LongContextCacheWritePerMillionUsd,
    DateTimeOffset EffectiveFrom, string Source)
{
    internal static PricingModelResponse From(ModelPrice p) => new(
        p.Id, p.Provider, p.Model, p.Aliases, p.Kind, Money.Normalize(p.InputPerMillionUsd), Money.Normalize(p.OutputPerMillionUsd),
        Money.Normalize(p.CachedInputPerMillionUsd), Money.Normalize(p.CacheWritePerMillionUsd), Money.Normalize(p.ReasoningPerMillionUsd),
        p.LongContextThresholdTokens, Money.Normalize(p.LongContextInputPerMillionUsd), Money.Normalize(p.LongContextOutputPerMillionUsd),
        Money.Normalize(p.LongContextCachedInputPerMillionUsd), Money.Normalize(p.LongContextCacheWritePerMillionUsd), p.EffectiveFrom, p.Source);
}

internal static class ListPricingModels
{
    /// <summary>The global catalog's prices in force now, or at <paramref name="at"/>, optionally for one provider.</summary>
    public static Ok<PricingModelResponse[]> Handle(PriceCatalog catalog, TimeProvider clock, DateTimeOffset? at, string? provider)
    {
        var rows = catalog.InForceAt(at ?? clock.GetUtcNow());
        if (!string.IsNullOrWhiteSpace(provider))
        {
            var wanted = Providers.Normalize(provider);
            rows = rows.Where(p => p.Provider == wanted);
        }

        return TypedResults.Ok(rows.Select(PricingModelResponse.From).ToArray());
    }
}
