using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Events;

/// <summary>
/// The idempotency key of an event: one row per externalRequestId per workspace, whatever day the event occurred,
/// with the cost that a duplicate answers. It lives apart from llm_requests because a partitioned table can only
/// enforce uniqueness within a partition (by day), and a retry may carry another occurredAt.
/// Kept a week longer than the workspace's raw events (see Features/Retention).
/// </summary>
internal sealed class IngestKey
{
    public Guid WorkspaceId { get; init; }
    public required string ExternalRequestId { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public decimal CostUsd { get; init; }
    public required string CostStatus { get; init; }
    public Guid? PriceId { get; init; }
}

internal sealed class IngestKeyConfiguration : IEntityTypeConfiguration<IngestKey>
{
    public void Configure(EntityTypeBuilder<IngestKey> builder)
    {
        builder.HasKey(k => new { k.WorkspaceId, k.ExternalRequestId });
        builder.Property(k => k.ExternalRequestId).HasMaxLength(128);
        builder.Property(k => k.CostUsd).HasColumnType("numeric(20,10)");
        builder.Property(k => k.CostStatus).HasMaxLength(16);
        builder.HasIndex(k => k.ReceivedAt).HasMethod("brin"); // the retention job removes old keys by arrival
    }
}
