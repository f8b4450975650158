using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Events;

/// <summary>One priced LLM call as stored. Its cost parts and price row are kept so the cost can be explained later.</summary>
internal sealed class LlmRequest
{
    public Guid WorkspaceId { get; init; }
    public Guid Id { get; init; }
    public required string ExternalRequestId { get; init; }
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public required string EndpointTag { get; init; }
    public required string PromptVersion { get; init; }
    public string? UserId { get; init; }
    public string? TenantId { get; init; }
    public string? FeatureTag { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public long TotalTokens { get; init; }
    public long CachedInputTokens { get; init; }
    public long CacheWriteInputTokens { get; init; }

    /// <summary>The 1-hour cache writes among <see cref="CacheWriteInputTokens"/>.</summary>
    public long CacheWrite1hInputTokens { get; init; }
    public long ReasoningTokens { get; init; }
    public int? LatencyMs { get; init; }
    public required string Status { get; init; }
    public string? ErrorCode { get; init; }
    public required string DataMode { get; init; }
    public required string Environment { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public decimal? ClientCostUsd { get; init; }
    public decimal CostUsd { get; init; }
    public required string CostStatus { get; init; }

    /// <summary>standard, flex, priority or batch (Features/Pricing/ServiceTiers).</summary>
    public string ServiceTier { get; init; } = "standard";

    /// <summary>Where the cost came from (<see cref="CostSources"/>); null when the event is unpriced.</summary>
    public string? CostSource { get; init; }
    public Guid? PriceId { get; init; }
    public decimal InputCostUsd { get; init; }
    public decimal CachedInputCostUsd { get; init; }
    public decimal CacheWriteCostUsd { get; init; }
    public decimal OutputCostUsd { get; init; }
    public decimal ReasoningCostUsd { get; init; }
    /// <summary>The client's metadata object as JSON text (jsonb), or null.</summary>
    public string? Metadata { get; init; }

    /// <summary>
    /// The id of the transaction that stored the row, set by the database. The rollup worker folds rows
    /// into usage_rollups in order of it: every transaction below PostgreSQL's snapshot horizon has ended,
    /// so no row below it can still appear (see Features/Usage/RollupWorker).
    /// </summary>
    public long IngestXid { get; init; }
}

internal sealed class LlmRequestConfiguration : IEntityTypeConfiguration<LlmRequest>
{
    public void Configure(EntityTypeBuilder<LlmRequest> builder)
    {
        // Keys lead with workspace_id so the table can be distributed by workspace (docs/scaling.md). The table is
        // partitioned by day of occurred_at (Features/Retention), and a partitioned table's keys must hold that column.
        builder.HasKey(r => new { r.WorkspaceId, r.Id, r.OccurredAt });
        builder.Property(r => r.ExternalRequestId).HasMaxLength(128);
        builder.Property(r => r.Provider).HasMaxLength(64);
        builder.Property(r => r.Model).HasMaxLength(128);
        builder.Property(r => r.EndpointTag).HasMaxLength(128);
        builder.Property(r => r.PromptVersion).HasMaxLength(128);
        builder.Property(r => r.UserId).HasMaxLength(128);
        builder.Property(r => r.TenantId).HasMaxLength(128);
        builder.Property(r => r.FeatureTag).HasMaxLength(128);
        builder.Property(r => r.ErrorCode).HasMaxLength(128);
        builder.Property(r => r.Status).HasMaxLength(16);
        builder.Property(r => r.DataMode).HasMaxLength(16);
        builder.Property(r => r.Environment).HasMaxLength(16);
        builder.Property(r => r.CostStatus).HasMaxLength(16);
        builder.Property(r => r.CacheWrite1hInputTokens).HasColumnName("cache_write_1h_input_tokens");
        builder.Property(r => r.ServiceTier).HasMaxLength(16).HasDefaultValue("standard");
        builder.Property(r => r.CostSource).HasMaxLength(24);
        builder.Property(r => r.Metadata).HasColumnType("jsonb");
        foreach (var money in builder.Metadata.GetProperties().Where(p => p.ClrType == typeof(decimal) || p.ClrType == typeof(decimal?)))
        {
            money.SetColumnType("numeric(20,10)");
        }

        // The idempotency key lives in ingest_keys (one table across all partitions); this index finds an event's row.
        builder.HasIndex(r => new { r.WorkspaceId, r.ExternalRequestId });
        // Two indexes on the same columns need names of their own, or EF folds them into one.
        builder.HasIndex(r => new { r.WorkspaceId, r.OccurredAt }, "ByTime")
            .HasDatabaseName("ix_llm_requests_workspace_id_occurred_at");
        builder.HasIndex(r => new { r.WorkspaceId, r.OccurredAt }, "Unpriced")
            .HasFilter("cost_status = 'unpriced'").HasDatabaseName("ix_llm_requests_unpriced");
        builder.Property(r => r.IngestXid).HasDefaultValueSql("pg_current_xact_id()::text::bigint").ValueGeneratedOnAdd();
        // Rows arrive in transaction order, so a BRIN index finds the newest ones for the cost of a few pages.
        builder.HasIndex(r => r.IngestXid).HasMethod("brin");
    }
}
