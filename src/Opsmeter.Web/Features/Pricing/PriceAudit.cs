using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// One change to the prices, append-only: who made it and when, what was in force before and what is after (as text a
/// person reads), and why. <see cref="WorkspaceId"/> is null for a change to the global catalog.
/// </summary>
internal sealed class PriceAudit
{
    public Guid Id { get; init; }
    public Guid? WorkspaceId { get; init; }
    public Guid PriceId { get; init; }

    /// <summary><c>added</c> or <c>retired</c>.</summary>
    public required string Action { get; init; }

    public required string Provider { get; init; }
    public required string Model { get; init; }
    public required string Actor { get; init; }
    public DateTimeOffset At { get; init; }
    public string? Before { get; init; }
    public string? After { get; init; }
    public required string Reason { get; init; }
}

internal sealed class PriceAuditConfiguration : IEntityTypeConfiguration<PriceAudit>
{
    public void Configure(EntityTypeBuilder<PriceAudit> builder)
    {
        builder.ToTable("price_audit");
        builder.Property(a => a.Action).HasMaxLength(16);
        builder.Property(a => a.Provider).HasMaxLength(64);
        builder.Property(a => a.Model).HasMaxLength(128);
        builder.Property(a => a.Actor).HasMaxLength(128);
        builder.Property(a => a.Before).HasMaxLength(1024);
        builder.Property(a => a.After).HasMaxLength(1024);
        builder.Property(a => a.Reason).HasMaxLength(512);
        builder.HasIndex(a => new { a.WorkspaceId, a.At });
    }
}
