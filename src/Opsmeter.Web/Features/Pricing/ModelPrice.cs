using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// One version of a model's price, in USD per million tokens. Rows are appended, never overwritten:
/// a new price is a new row with a later <see cref="EffectiveFrom"/>, so every priced event can point
/// at the exact row that priced it. <see cref="WorkspaceId"/> is null for the global catalog and set
/// for a workspace's own override.
/// </summary>
internal sealed class ModelPrice
{
    public Guid Id { get; init; }
    public Guid? WorkspaceId { get; init; }
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public string[] Aliases { get; init; } = [];
    public string Kind { get; init; } = "chat";
    public DateTimeOffset EffectiveFrom { get; init; }
    public decimal InputPerMillionUsd { get; init; }
    public decimal OutputPerMillionUsd { get; init; }
    public decimal? CachedInputPerMillionUsd { get; init; }
    public decimal? CacheWritePerMillionUsd { get; init; }
    public decimal? ReasoningPerMillionUsd { get; init; }
    public long? LongContextThresholdTokens { get; init; }
    public decimal? LongContextInputPerMillionUsd { get; init; }
    public decimal? LongContextOutputPerMillionUsd { get; init; }
    public decimal? LongContextCachedInputPerMillionUsd { get; init; }
    public decimal? LongContextCacheWritePerMillionUsd { get; init; }
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
        builder.Property(p => p.Source).HasMaxLength(512);
        builder.Property(p => p.CreatedBy).HasMaxLength(128);
        builder.Property(p => p.Reason).HasMaxLength(512);
        builder.Property(p => p.RetiredBy).HasMaxLength(128);
        builder.Property(p => p.RetireReason).HasMaxLength(512);
        foreach (var price in builder.Metadata.GetProperties().Where(p => p.ClrType == typeof(decimal) || p.ClrType == typeof(decimal?)))
        {
            price.SetColumnType("numeric(18,8)");
        }

        builder.HasIndex(p => new { p.WorkspaceId, p.Provider, p.Model, p.EffectiveFrom }).IsUnique().AreNullsDistinct(false);
    }
}
