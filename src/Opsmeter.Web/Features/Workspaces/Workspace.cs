using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Workspaces;

internal sealed class Workspace
{
    public Guid Id { get; init; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>enforce, or observe (the kill switch): the policy is computed and reported, but always allows.</summary>
    public string PolicyMode { get; set; } = "enforce";

    /// <summary>Days raw events are kept (Features/Retention); older ones are removed by the nightly job.</summary>
    public int RawRetentionDays { get; set; } = 30;

    /// <summary>Days daily rollups are kept; the dashboard's figures for older ranges come from them.</summary>
    public int RollupRetentionDays { get; set; } = 400;

    /// <summary>Events the workspace may store per UTC month (Features/Quota), set by instance administrators; null: the instance default.</summary>
    public long? MonthlyRequestQuota { get; set; }
}

internal sealed class WorkspaceConfiguration : IEntityTypeConfiguration<Workspace>
{
    public void Configure(EntityTypeBuilder<Workspace> builder)
    {
        builder.Property(w => w.Name).HasMaxLength(128);
        builder.HasIndex(w => w.Name).IsUnique();
        builder.Property(w => w.PolicyMode).HasMaxLength(16).HasDefaultValue("enforce");
        builder.Property(w => w.RawRetentionDays).HasDefaultValue(30);
        builder.Property(w => w.RollupRetentionDays).HasDefaultValue(400);
    }
}
