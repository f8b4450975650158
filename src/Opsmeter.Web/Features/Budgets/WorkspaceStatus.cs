using System.Security.Claims;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Budgets;

public sealed record WorkspaceStatusResponse(Guid WorkspaceId, bool IsPlanLimitReached, bool TelemetryPaused, bool ProviderCallsContinue,
    bool IsBudgetWarning, bool IsBudgetExceeded, string Severity, PlanStatus Plan, WorkspaceBudgetStatus Budget);

/// <summary>Self-hosted Opsmeter has no plan quota: the fields exist so Opsmeter.io clients read what they expect.</summary>
public sealed record PlanStatus(string Tier, long? MonthlyRequestQuota, bool IsPlanLimitReached);

public sealed record WorkspaceBudgetStatus(decimal WarningThresholdRatio, BudgetPeriodStatus? Daily, BudgetPeriodStatus? Monthly);

public sealed record BudgetPeriodStatus(decimal LimitUsd, decimal CurrentSpendUsd, decimal UtilizationRatio, bool IsWarning, bool IsExceeded,
    string Period, DateTimeOffset? PeriodStart, DateTimeOffset? PeriodEnd);

/// <summary>
/// <c>GET /v1/diagnostics/workspace-status</c> in the Opsmeter.io shape, from the policy snapshot: the
/// flags cover all the workspace's budgets, daily and monthly are its whole-workspace budgets of those periods.
/// </summary>
internal static class WorkspaceStatus
{
    public const decimal DefaultWarningRatio = 0.8m;

    public static WorkspaceStatusResponse Handle(ClaimsPrincipal user, PolicySnapshot snapshot, TimeProvider clock) =>
        For(user.WorkspaceId(), snapshot.For(user.WorkspaceId()), clock.GetUtcNow());

    public static WorkspaceStatusResponse For(Guid workspaceId, WorkspacePolicy policy, DateTimeOffset now)
    {
        var states = policy.Budgets.Select(b => b.StateAt(now)).ToList();
        var exceeded = states.Contains(BudgetRules.Exceeded);
        var warning = exceeded || states.Contains(BudgetRules.Warning);
        var daily = policy.Budgets.FirstOrDefault(b => b.Dimension == BudgetRules.Workspace && b.Period == BudgetRules.Daily);
        var monthly = policy.Budgets.FirstOrDefault(b => b.Dimension == BudgetRules.Workspace && b.Period == BudgetRules.Monthly);
        var ratio = (monthly ?? daily)?.Thresholds.DefaultIfEmpty(DefaultWarningRatio).Min() ?? DefaultWarningRatio;
        return new WorkspaceStatusResponse(workspaceId, IsPlanLimitReached: false, TelemetryPaused: false, ProviderCallsContinue: true,
            warning, exceeded, exceeded ? "critical" : warning ? "warning" : "normal",
            new PlanStatus("self-hosted", MonthlyRequestQuota: null, IsPlanLimitReached: false),
            new WorkspaceBudgetStatus(ratio, Period(daily, now), Period(monthly, now)));
    }

    private static BudgetPeriodStatus? Period(BudgetStanding? budget, DateTimeOffset now)
    {
        if (budget is null)
        {
            return null;
        }

        var state = budget.StateAt(now);
        var current = budget.EvaluatedPeriod is { } p && now >= p.Start && now < p.End ? p : (BudgetPeriod?)null;
        return new BudgetPeriodStatus(budget.LimitUsd, budget.SpendAt(now), budget.UtilizationAt(now),
            state == BudgetRules.Warning, state == BudgetRules.Exceeded, budget.Period, current?.Start, current?.End);
    }
}
