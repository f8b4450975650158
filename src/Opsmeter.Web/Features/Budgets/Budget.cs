using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Features.Budgets;

/// <summary>
/// A spending limit on the whole workspace or on one dimension value, per calendar period in its own
/// time zone. The last evaluation's figures live on the row too: they feed the policy (<c>PolicySnapshot</c>)
/// in every process without a query per request.
/// </summary>
internal sealed class Budget
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public required string Name { get; set; }

    /// <summary>One of <see cref="BudgetRules.Dimensions"/>; "workspace" has no value.</summary>
    public required string ScopeDimension { get; set; }
    public string? ScopeValue { get; set; }

    /// <summary>daily, weekly (ISO weeks, from Monday) or monthly.</summary>
    public required string Period { get; set; }

    /// <summary>IANA name; periods start at local midnight there.</summary>
    public required string TimeZone { get; set; }

    public decimal LimitUsd { get; set; }

    /// <summary>Fractions of the limit, ascending, each below 1: crossing one opens a warning incident.</summary>
    public decimal[] WarningThresholds { get; set; } = [];

    /// <summary>warn, clamp, fallback or block: what <c>/v1/policy</c> tells apps once the limit is exceeded.</summary>
    public required string OnExceeded { get; set; }
    public int? MaxOutputTokens { get; set; }
    public string? FallbackModel { get; set; }
    public string[] DataModes { get; set; } = ["real"];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The period of the last evaluation, its exact spend then, and when it ran.</summary>
    public DateTimeOffset? EvaluatedPeriodStart { get; set; }
    public decimal EvaluatedSpendUsd { get; set; }
    public DateTimeOffset? EvaluatedAt { get; set; }
}

internal sealed class BudgetConfiguration : IEntityTypeConfiguration<Budget>
{
    public void Configure(EntityTypeBuilder<Budget> builder)
    {
        builder.Property(b => b.Name).HasMaxLength(128);
        builder.Property(b => b.ScopeDimension).HasMaxLength(32);
        builder.Property(b => b.ScopeValue).HasMaxLength(128);
        builder.Property(b => b.Period).HasMaxLength(16);
        builder.Property(b => b.TimeZone).HasMaxLength(64);
        builder.Property(b => b.LimitUsd).HasPrecision(18, 6);
        builder.Property(b => b.EvaluatedSpendUsd).HasPrecision(20, 10);
        builder.Property(b => b.OnExceeded).HasMaxLength(16);
        builder.Property(b => b.FallbackModel).HasMaxLength(128);
        // Keys lead with workspace_id, the distribution column should the schema move to Citus (docs/scaling.md).
        builder.HasKey(b => new { b.WorkspaceId, b.Id });
        builder.HasOne<Workspace>().WithMany().HasForeignKey(b => b.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
