using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Opsmeter.Web.Features.Budgets;

namespace Opsmeter.Web.Features.Incidents;

/// <summary>
/// One threshold crossing of one budget in one period. The unique key (budget, period, opening threshold)
/// is what makes "exactly one incident" hold even if two evaluations race; reaching the limit later
/// escalates the same incident to exceeded instead of opening another.
/// </summary>
internal sealed class Incident
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public Guid BudgetId { get; init; }
    public required string BudgetName { get; set; }
    public DateTimeOffset PeriodStart { get; init; }
    public DateTimeOffset PeriodEnd { get; init; }

    /// <summary>The threshold that opened it (1 for an incident opened at the limit): part of the unique key.</summary>
    public decimal OpenedThreshold { get; init; }

    /// <summary>The threshold of the current level: the opening one, or 1 once escalated to exceeded.</summary>
    public decimal Threshold { get; set; }

    /// <summary>warning or exceeded.</summary>
    public required string Level { get; set; }

    /// <summary>open, acknowledged or resolved.</summary>
    public required string State { get; set; }
    public decimal SpendUsd { get; set; }
    public decimal LimitUsd { get; set; }
    public DateTimeOffset OpenedAt { get; init; }
    public DateTimeOffset? EscalatedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? ResolvedBy { get; set; }
    public string? Note { get; set; }

    /// <summary>The level last announced to the webhooks, and when: the 5-minute cooldown reads these.</summary>
    public string? NotifiedLevel { get; set; }
    public DateTimeOffset? NotifiedAt { get; set; }
}

internal static class IncidentStates
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
    public const string Resolved = "resolved";
    public static readonly string[] All = [Open, Acknowledged, Resolved];
}

internal sealed class IncidentConfiguration : IEntityTypeConfiguration<Incident>
{
    public void Configure(EntityTypeBuilder<Incident> builder)
    {
        builder.Property(i => i.BudgetName).HasMaxLength(128);
        builder.Property(i => i.OpenedThreshold).HasPrecision(5, 4);
        builder.Property(i => i.Threshold).HasPrecision(5, 4);
        builder.Property(i => i.Level).HasMaxLength(16);
        builder.Property(i => i.State).HasMaxLength(16);
        builder.Property(i => i.SpendUsd).HasPrecision(20, 10);
        builder.Property(i => i.LimitUsd).HasPrecision(18, 6);
        builder.Property(i => i.AcknowledgedBy).HasMaxLength(256);
        builder.Property(i => i.ResolvedBy).HasMaxLength(256);
        builder.Property(i => i.Note).HasMaxLength(2000);
        builder.Property(i => i.NotifiedLevel).HasMaxLength(16);
        builder.HasKey(i => new { i.WorkspaceId, i.Id });
        builder.HasIndex(i => new { i.WorkspaceId, i.BudgetId, i.PeriodStart, i.OpenedThreshold }).IsUnique();
        builder.HasIndex(i => new { i.WorkspaceId, i.OpenedAt });
        builder.HasOne<Budget>().WithMany().HasForeignKey(i => new { i.WorkspaceId, i.BudgetId }).OnDelete(DeleteBehavior.Cascade);
    }
}
