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
}

internal sealed class WorkspaceConfiguration : IEntityTypeConfiguration<Workspace>
{
    public void Configure(EntityTypeBuilder<Workspace> builder)
    {
        builder.Property(w => w.Name).HasMaxLength(128);
        builder.HasIndex(w => w.Name).IsUnique();
        builder.Property(w => w.PolicyMode).HasMaxLength(16).HasDefaultValue("enforce");
    }
}
