using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// Where a workspace's incidents are announced: a URL that receives a JSON body (generic, or a Slack
/// incoming-webhook body), signed with the channel's secret. The secret must be readable to sign with,
/// so it is stored encrypted with ASP.NET Core Data Protection, never in clear.
/// </summary>
internal sealed class WebhookChannel
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public required string Name { get; set; }
    public required string Url { get; set; }

    /// <summary>generic or slack.</summary>
    public required string Format { get; set; }
    public required string ProtectedSecret { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One message to one channel and what became of it: the delivery log of the dashboard.</summary>
internal sealed class WebhookDelivery
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid ChannelId { get; init; }
    public Guid? IncidentId { get; init; }

    /// <summary>incident or test.</summary>
    public required string Kind { get; init; }

    /// <summary>The exact body, so that every retry sends (and signs) the same bytes.</summary>
    public required string Body { get; init; }

    /// <summary>pending, delivered or failed (no retry left).</summary>
    public required string Status { get; set; }
    public int Attempts { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
}

internal static class WebhookFormats
{
    public const string Generic = "generic";
    public const string Slack = "slack";
    public static readonly string[] All = [Generic, Slack];
}

internal sealed class WebhookChannelConfiguration : IEntityTypeConfiguration<WebhookChannel>
{
    public void Configure(EntityTypeBuilder<WebhookChannel> builder)
    {
        builder.Property(c => c.Name).HasMaxLength(128);
        builder.Property(c => c.Url).HasMaxLength(2048);
        builder.Property(c => c.Format).HasMaxLength(16);
        builder.HasKey(c => new { c.WorkspaceId, c.Id });
        builder.HasOne<Workspace>().WithMany().HasForeignKey(c => c.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.Property(d => d.Kind).HasMaxLength(16);
        builder.Property(d => d.Status).HasMaxLength(16);
        builder.Property(d => d.LastError).HasMaxLength(500);
        builder.HasKey(d => new { d.WorkspaceId, d.Id });
        builder.HasIndex(d => new { d.WorkspaceId, d.CreatedAt });
        builder.HasOne<WebhookChannel>().WithMany().HasForeignKey(d => new { d.WorkspaceId, d.ChannelId }).OnDelete(DeleteBehavior.Cascade);
    }
}
