using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// Appends the shipped catalog (Catalog/model-prices.json, compiled into the assembly) to the price
/// table: rows the database lacks are inserted, rows it has are left as they are (append, never
/// overwrite). Ids derive from provider, model and effective date, so every installation gives the
/// same price row the same id.
/// </summary>
internal static class PriceCatalogSeed
{
    public static IReadOnlyList<ModelPrice> ShippedRows(DateTimeOffset createdAt)
    {
        using var stream = typeof(PriceCatalogSeed).Assembly.GetManifestResourceStream("Opsmeter.Web.model-prices.json")
            ?? throw new InvalidOperationException("The shipped price catalog resource is missing from the build.");
        var file = JsonSerializer.Deserialize(stream, SeedJsonContext.Default.SeedFile)
            ?? throw new InvalidOperationException("The shipped price catalog is empty.");
        return [.. file.Models.Select(m => m.ToPrice(createdAt))];
    }

    public static async Task<int> ApplyAsync(OpsmeterDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var existing = await db.ModelPrices.AsNoTracking()
            .Where(p => p.WorkspaceId == null)
            .Select(p => p.Id)
            .ToHashSetAsync(ct);
        var missing = ShippedRows(now).Where(p => !existing.Contains(p.Id)).ToList();
        if (missing.Count > 0)
        {
            db.ModelPrices.AddRange(missing);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }

        return missing.Count;
    }

    /// <summary>The row's id; a standard row's id leaves the tier out, so the ids shipped before tiers existed stay the same.</summary>
    internal static Guid StableId(string provider, string model, DateTimeOffset effectiveFrom, string serviceTier = ServiceTiers.Standard)
    {
        var tier = serviceTier == ServiceTiers.Standard ? "" : $"|{serviceTier}";
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{provider}|{model}|{effectiveFrom.UtcTicks}{tier}"));
        return new Guid(bytes.AsSpan(0, 16));
    }

    internal sealed record SeedFile(string CatalogVersion, List<SeedRow> Models);

    internal sealed record SeedLongContext(
        long ThresholdTokens, decimal InputPerMillionUsd, decimal OutputPerMillionUsd,
        decimal? CachedInputPerMillionUsd, decimal? CacheWritePerMillionUsd, decimal? CacheWrite1hPerMillionUsd = null);

    internal sealed record SeedRow(
        string Provider, string Model, string[]? Aliases, string? Kind, DateTimeOffset EffectiveFrom,
        decimal InputPerMillionUsd, decimal OutputPerMillionUsd, decimal? CachedInputPerMillionUsd,
        decimal? CacheWritePerMillionUsd, decimal? ReasoningPerMillionUsd, SeedLongContext? LongContext, string Source,
        decimal? CacheWrite1hPerMillionUsd = null, string? ServiceTier = null)
    {
        public ModelPrice ToPrice(DateTimeOffset createdAt) => new()
        {
            Id = StableId(Provider, Model, EffectiveFrom, ServiceTiers.Normalize(ServiceTier)),
            Provider = Provider,
            Model = Model,
            Aliases = Aliases ?? [],
            Kind = Kind ?? "chat",
            ServiceTier = ServiceTiers.Normalize(ServiceTier),
            EffectiveFrom = EffectiveFrom.ToUniversalTime(),
            InputPerMillionUsd = InputPerMillionUsd,
            OutputPerMillionUsd = OutputPerMillionUsd,
            CachedInputPerMillionUsd = CachedInputPerMillionUsd,
            CacheWritePerMillionUsd = CacheWritePerMillionUsd,
            CacheWrite1hPerMillionUsd = CacheWrite1hPerMillionUsd,
            ReasoningPerMillionUsd = ReasoningPerMillionUsd,
            LongContextThresholdTokens = LongContext?.ThresholdTokens,
            LongContextInputPerMillionUsd = LongContext?.InputPerMillionUsd,
            LongContextOutputPerMillionUsd = LongContext?.OutputPerMillionUsd,
            LongContextCachedInputPerMillionUsd = LongContext?.CachedInputPerMillionUsd,
            LongContextCacheWritePerMillionUsd = LongContext?.CacheWritePerMillionUsd,
            LongContextCacheWrite1hPerMillionUsd = LongContext?.CacheWrite1hPerMillionUsd,
            Source = Source,
            CreatedAt = createdAt,
        };
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PriceCatalogSeed.SeedFile))]
internal sealed partial class SeedJsonContext : JsonSerializerContext;
