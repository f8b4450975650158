using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Repricing;

/// <summary>One run of <c>pricing:reprice</c> for a workspace: when, how many events it priced, and the dollars they added.</summary>
internal sealed class RepriceRun
{
    public Guid WorkspaceId { get; init; }
    public Guid Id { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; init; }
    public int Events { get; init; }
    public decimal CostUsd { get; init; }
}

internal sealed class RepriceRunConfiguration : IEntityTypeConfiguration<RepriceRun>
{
    public void Configure(EntityTypeBuilder<RepriceRun> builder)
    {
        builder.ToTable("reprice_runs");
        builder.HasKey(r => new { r.WorkspaceId, r.Id });
        builder.Property(r => r.CostUsd).HasColumnType("numeric(20,10)");
        builder.HasIndex(r => new { r.WorkspaceId, r.FinishedAt });
    }
}
