using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Features.Members;

/// <summary>A person's role in one workspace: owner, admin or member.</summary>
internal sealed class WorkspaceMember
{
    public Guid WorkspaceId { get; init; }
    public Guid UserId { get; init; }
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

internal static class WorkspaceRoles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";
    public static readonly string[] All = [Owner, Admin, Member];

    /// <summary>Owners and admins manage keys, members and data; members only look.</summary>
    public static bool CanManage(string role) => role is Owner or Admin;
}

internal sealed class WorkspaceMemberConfiguration : IEntityTypeConfiguration<WorkspaceMember>
{
    public void Configure(EntityTypeBuilder<WorkspaceMember> builder)
    {
        builder.HasKey(m => new { m.WorkspaceId, m.UserId });
        builder.Property(m => m.Role).HasMaxLength(16);
        builder.HasIndex(m => m.UserId);
        builder.HasOne<Workspace>().WithMany().HasForeignKey(m => m.WorkspaceId);
        builder.HasOne<OpsmeterUser>().WithMany().HasForeignKey(m => m.UserId);
    }
}
