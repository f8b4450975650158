using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>An API key as stored: never the secret itself, only its SHA-256 hash and a display prefix.</summary>
internal sealed class ApiKey
{
    public Guid WorkspaceId { get; init; }
    public Guid Id { get; init; }
    public required string Name { get; set; }
    public required string Prefix { get; init; }
    public required string KeyHash { get; init; }
    public required string[] Scopes { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>When the key last authenticated a request, to the minute (written in batches by <see cref="ApiKeyUsage"/>).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.HasKey(k => new { k.WorkspaceId, k.Id });
        builder.Property(k => k.Name).HasMaxLength(128);
        builder.Property(k => k.Prefix).HasMaxLength(32);
        builder.Property(k => k.KeyHash).HasMaxLength(64);
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(k => k.WorkspaceId);
    }
}
