using System.Security.Claims;
using Npgsql;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Policy;

public sealed record WorkspaceStatusResponse(Guid WorkspaceId, bool IsPlanLimitReached, bool TelemetryPaused, bool ProviderCallsContinue,
    bool IsBudgetWarning, bool IsBudgetExceeded, string Severity, PlanStatus Plan, WorkspaceBudgetStatus Budget);

/// <summary>
/// The plan block Opsmeter.io clients read: the workspace's monthly request quota (Features/Quota; the limit and what remains
/// of it are <c>null</c> when it has none) and this UTC calendar month's requests as that quota counts them, every data mode.
/// </summary>
public sealed record PlanStatus(string PlanTier, string PlanName, long CurrentRequestCount, long? PlanRequestLimit, long? RemainingRequestCount,
    bool IsPlanLimitReached, bool TelemetryPaused, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd);

/// <summary><see cref="Daily"/> and <see cref="Monthly"/> are always objects, so a template can format them without a null check.</summary>
public sealed record WorkspaceBudgetStatus(decimal WarningThresholdRatio, BudgetPeriodStatus Daily, BudgetPeriodStatus Monthly);

/// <summary>One period's spend; without a whole-workspace budget of that period, <c>limitUsd</c> is null and the ratio 0.</summary>
public sealed record BudgetPeriodStatus(decimal? LimitUsd, decimal CurrentSpendUsd, decimal UtilizationRatio, bool IsWarning, bool IsExceeded,
    string Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd);

/// <summary>
/// <c>GET /v1/diagnostics/workspace-status</c> in the Opsmeter.io shape. The flags cover all the workspace's budgets (from the
/// policy snapshot); daily and monthly are its whole-workspace budgets of those periods, or, where it has none, the spend of
/// the UTC day and month (real data, as budgets count by default), read exactly like the dashboard's figures.
/// </summary>
internal static class WorkspaceStatus
{
    public const decimal DefaultWarningRatio = 0.8m;
    public const string PlanTier = "self-hosted";

    public static async Task<WorkspaceStatusResponse> HandleAsync(ClaimsPrincipal user, PolicySnapshot snapshot, QuotaMeter quota,
        NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        var policy = snapshot.For(workspaceId);
        var now = clock.GetUtcNow();
        var day = BudgetPeriod.Containing(now, BudgetRules.Daily, TimeZoneInfo.Utc);
        var month = BudgetPeriod.Containing(now, BudgetRules.Monthly, TimeZoneInfo.Utc);

        var requests = 0L;
        var monthSpend = 0m;
        foreach (var mode in DataModes.All)
        {
            var totals = await UsageQueries.TotalsAsync(db, workspaceId, new UsageFilter(month.Start, month.End, mode), ct);
            requests += totals.Requests;
            monthSpend += mode == "real" ? totals.CostUsd : 0m;
        }

        requests += await QuotaMeter.BackdatedAsync(db, workspaceId, month, ct);
        var daySpend = (await UsageQueries.TotalsAsync(db, workspaceId, new UsageFilter(day.Start, day.End), ct)).CostUsd;
        return For(workspaceId, policy, now, new PeriodSpend(requests, day, daySpend, month, monthSpend), await quota.LimitForAsync(workspaceId));
    }

    /// <summary>What the UTC day and month hold: the fallback for a period without a whole-workspace budget, and the plan's count.</summary>
    internal sealed record PeriodSpend(long MonthRequests, BudgetPeriod Day, decimal DaySpendUsd, BudgetPeriod Month, decimal MonthSpendUsd);

    public static WorkspaceStatusResponse For(Guid workspaceId, WorkspacePolicy policy, DateTimeOffset now, PeriodSpend spend, long? requestLimit = null)
    {
        var states = policy.Budgets.Select(b => b.StateAt(now)).ToList();
        var exceeded = states.Contains(BudgetRules.Exceeded);
        var warning = exceeded || states.Contains(BudgetRules.Warning);
        var daily = policy.Budgets.FirstOrDefault(b => b.Dimension == BudgetRules.Workspace && b.Period == BudgetRules.Daily);
        var monthly = policy.Budgets.FirstOrDefault(b => b.Dimension == BudgetRules.Workspace && b.Period == BudgetRules.Monthly);
        var ratio = (monthly ?? daily)?.Thresholds.DefaultIfEmpty(DefaultWarningRatio).Min() ?? DefaultWarningRatio;
        var reached = spend.MonthRequests >= requestLimit;
        var plan = new PlanStatus(PlanTier, "Self-hosted", spend.MonthRequests, requestLimit, 
            requestLimit is { } limit ? Math.Max(0, limit - spend.MonthRequests) : null,
            reached, TelemetryPaused: reached, spend.Month.Start, spend.Month.End);
        return new WorkspaceStatusResponse(workspaceId, reached, TelemetryPaused: reached, ProviderCallsContinue: true,
            warning, exceeded, exceeded ? "critical" : warning ? "warning" : "normal", plan,
            new WorkspaceBudgetStatus(ratio,
                Period(daily, now) ?? Unbudgeted(BudgetRules.Daily, spend.Day, spend.DaySpendUsd),
                Period(monthly, now) ?? Unbudgeted(BudgetRules.Monthly, spend.Month, spend.MonthSpendUsd)));
    }

    private static BudgetPeriodStatus? Period(BudgetStanding? budget, DateTimeOffset now)
    {
        if (budget is null)
        {
            return null;
        }

        var state = budget.StateAt(now);
        var period = budget.PeriodAt(now);
        return new BudgetPeriodStatus(Money.Normalize(budget.LimitUsd), Money.Normalize(budget.SpendAt(now)), budget.UtilizationAt(now),
            state == BudgetRules.Warning, state == BudgetRules.Exceeded, budget.Period, period.Start, period.End);
    }

    private static BudgetPeriodStatus Unbudgeted(string period, BudgetPeriod range, decimal spendUsd) =>
        new(LimitUsd: null, Money.Normalize(spendUsd), UtilizationRatio: 0m, IsWarning: false, IsExceeded: false, period, range.Start, range.End);
}
