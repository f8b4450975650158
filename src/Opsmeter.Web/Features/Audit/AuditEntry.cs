using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Opsmeter.Web.Features.Audit;

/// <summary>
/// One change, append-only (a trigger refuses UPDATE and DELETE): who made it (a person's email, <c>key om_…</c>,
/// <c>cli:user</c> or <c>system</c>), when, what (<see cref="AuditActions"/>), on what, and the value before and after as
/// text a person reads. <see cref="WorkspaceId"/> is null for an instance-level event (setup, workspace created or deleted);
/// a deleted workspace's entries stay, so the instance keeps a record of what happened in it.
/// </summary>
internal sealed class AuditEntry
{
    public long Id { get; init; }
    public Guid? WorkspaceId { get; init; }
    public DateTimeOffset At { get; init; }
    public required string Actor { get; init; }
    public required string Action { get; init; }
    public string? Target { get; init; }
    public string? Before { get; init; }
    public string? After { get; init; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_log");
        builder.Property(a => a.Id).UseIdentityAlwaysColumn();
        builder.Property(a => a.Actor).HasMaxLength(320);
        builder.Property(a => a.Action).HasMaxLength(64);
        builder.Property(a => a.Target).HasMaxLength(512);
        builder.Property(a => a.Before).HasMaxLength(2048);
        builder.Property(a => a.After).HasMaxLength(2048);
        builder.HasIndex(a => new { a.WorkspaceId, a.At });
    }
}
