using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// One version of a model's price, in USD per million tokens. Rows are appended, never overwritten:
/// a new price is a new row with a later <see cref="EffectiveFrom"/>, so every priced event can point
/// at the exact row that priced it. <see cref="WorkspaceId"/> is null for the global catalog and set
/// for a workspace's own override. <see cref="ServiceTier"/> is <c>standard</c> for the rows that names match; a row
/// of another tier is that model's published price in the tier (OpenAI's priority and flex prices), found through
/// the standard row (see <see cref="ServiceTiers"/>).
/// </summary>
internal sealed class ModelPrice
{
    public Guid Id { get; init; }
    public Guid? WorkspaceId { get; init; }
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public string[] Aliases { get; init; } = [];
    public string Kind { get; init; } = "chat";
    public string ServiceTier { get; init; } = ServiceTiers.Standard;
    public DateTimeOffset EffectiveFrom { get; init; }
    public decimal InputPerMillionUsd { get; init; }
    public decimal OutputPerMillionUsd { get; init; }
    public decimal? CachedInputPerMillionUsd { get; init; }
    public decimal? CacheWritePerMillionUsd { get; init; }

    /// <summary>Writes to a 1-hour cache (Anthropic: 2× input); null falls back to <see cref="CacheWritePerMillionUsd"/>.</summary>
    public decimal? CacheWrite1hPerMillionUsd { get; init; }
    public decimal? ReasoningPerMillionUsd { get; init; }
    public long? LongContextThresholdTokens { get; init; }
    public decimal? LongContextInputPerMillionUsd { get; init; }
    public decimal? LongContextOutputPerMillionUsd { get; init; }
    public decimal? LongContextCachedInputPerMillionUsd { get; init; }
    public decimal? LongContextCacheWritePerMillionUsd { get; init; }
    public decimal? LongContextCacheWrite1hPerMillionUsd { get; init; }
    public required string Source { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Who added the row: <c>catalog</c> for the shipped catalog, else a person or an API key prefix.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Why the row was added (an override's reason; the shipped catalog's rows have none).</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// A mistaken row is retired rather than deleted: it prices nothing from then on, but the events it priced keep
    /// pointing at it and keep their cost.
    /// </summary>
    public DateTimeOffset? RetiredAt { get; set; }

    public string? RetiredBy { get; set; }
    public string? RetireReason { get; set; }
}

internal sealed class ModelPriceConfiguration : IEntityTypeConfiguration<ModelPrice>
{
    public void Configure(EntityTypeBuilder<ModelPrice> builder)
    {
        builder.Property(p => p.Provider).HasMaxLength(64);
        builder.Property(p => p.Model).HasMaxLength(128);
        builder.Property(p => p.Kind).HasMaxLength(16);
        builder.Property(p => p.CacheWrite1hPerMillionUsd).HasColumnName("cache_write_1h_per_million_usd");
        builder.Property(p => p.LongContextCacheWrite1hPerMillionUsd).HasColumnName("long_context_cache_write_1h_per_million_usd");
        builder.Property(p => p.ServiceTier).HasMaxLength(16).HasDefaultValue(ServiceTiers.Standard);
        builder.Property(p => p.Source).HasMaxLength(512);
        builder.Property(p => p.CreatedBy).HasMaxLength(128);
        builder.Property(p => p.Reason).HasMaxLength(512);
        builder.Property(p => p.RetiredBy).HasMaxLength(128);
        builder.Property(p => p.RetireReason).HasMaxLength(512);
        foreach (var price in builder.Metadata.GetProperties().Where(p => p.ClrType == typeof(decimal) || p.ClrType == typeof(decimal?)))
        {
            price.SetColumnType("numeric(18,8)");
        }

        builder.HasIndex(p => new { p.WorkspaceId, p.Provider, p.Model, p.ServiceTier, p.EffectiveFrom }).IsUnique().AreNullsDistinct(false);
    }
}
