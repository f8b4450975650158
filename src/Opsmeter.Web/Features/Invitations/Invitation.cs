using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Features.Invitations;

/// <summary>
/// An invitation to a workspace: a single-use link that expires. Only the SHA-256 hash of its token is stored; the link is
/// shown once to the inviter. Accepting it makes the invited email a member with <see cref="Role"/>.
/// </summary>
internal sealed class Invitation
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public required string Email { get; init; }
    public required string Role { get; init; }
    public required string TokenHash { get; init; }
    public Guid InvitedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? AcceptedAt { get; set; }
    public Guid? AcceptedBy { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> builder)
    {
        builder.Property(i => i.Email).HasMaxLength(256);
        builder.Property(i => i.Role).HasMaxLength(16);
        builder.Property(i => i.TokenHash).HasMaxLength(64);
        builder.HasIndex(i => i.TokenHash).IsUnique();
        builder.HasIndex(i => new { i.WorkspaceId, i.CreatedAt });
        builder.HasOne<Workspace>().WithMany().HasForeignKey(i => i.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
