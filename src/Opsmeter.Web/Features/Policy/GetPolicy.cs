using System.Globalization;
using System.Security.Claims;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Policy;

public sealed record PolicyBudget(Guid Id, string Name, decimal UtilizationRatio, string State);

/// <summary>
/// The policy's answer (docs/api.md "Policy"). With <c>queue</c>, <c>RetryAfterSeconds</c> is when the decision changes by
/// itself: the end of the latest period among the exceeded queue budgets, when their spend starts again from zero
/// (sooner if someone raises the limit or switches to observe mode).
/// </summary>
public sealed record PolicyResponse(string Action, IReadOnlyList<string> Reasons, int? MaxOutputTokens, string? FallbackModel,
    int? RetryAfterSeconds, string Mode, int TtlSeconds, IReadOnlyList<PolicyBudget> Budgets, DateTimeOffset? EvaluatedAt = null);

/// <summary>
/// <c>GET /v1/policy</c>: what an app should do before its next LLM call, from the budgets that apply to
/// that call. Answered from <see cref="PolicySnapshot"/>: no database round trip.
/// </summary>
internal static class GetPolicy
{
    public static PolicyResponse Handle(HttpRequest request, ClaimsPrincipal user, PolicySnapshot snapshot, TimeProvider clock) =>
        Decide(snapshot.For(user.WorkspaceId()), name => request.Query[name].ToString() is { Length: > 0 } v ? v : null, clock.GetUtcNow(),
            snapshot.RefreshSeconds);

    /// <summary>
    /// ok budgets allow, warning ones warn, exceeded ones apply their configured action; the strictest wins.
    /// In observe mode the reasons are still reported, but the action is allow and nothing is to be changed.
    /// <c>ttlSeconds</c>, how long an app may reuse the answer, is the snapshot's refresh interval.
    /// </summary>
    public static PolicyResponse Decide(WorkspacePolicy policy, Func<string, string?> callValue, DateTimeOffset now,
        int ttlSeconds = PolicyOptions.DefaultRefreshSeconds)
    {
        var action = "allow";
        var reasons = new List<string>();
        var budgets = new List<PolicyBudget>();
        int? maxOutputTokens = null;
        string? fallbackModel = null;
        var fallbackUtilization = -1m;
        DateTimeOffset? queuedUntil = null;
        // The oldest evaluation behind the answer: an app can tell a stale policy (evaluation stopped) from a fresh one.
        DateTimeOffset? evaluatedAt = null;
        var unevaluated = false;
        foreach (var budget in policy.Budgets.Where(b => b.Applies(callValue)))
        {
            unevaluated |= budget.EvaluatedAt is null;
            evaluatedAt = budget.EvaluatedAt is { } at && (evaluatedAt is null || at < evaluatedAt) ? at : evaluatedAt;
            var state = budget.StateAt(now);
            var utilization = budget.UtilizationAt(now);
            budgets.Add(new PolicyBudget(budget.Id, budget.Name, utilization, state));
            var budgetAction = state switch
            {
                BudgetRules.Exceeded => budget.OnExceeded,
                BudgetRules.Warning => "warn",
                _ => "allow",
            };
            if (budgetAction == "allow")
            {
                continue;
            }

            reasons.Add(string.Create(CultureInfo.InvariantCulture,
                $"budget '{budget.Name}' {state}: {utilization:P0} of {budget.LimitUsd:0.##} USD this {PeriodNoun(budget.Period)} ({budgetAction})"));
            if (BudgetRules.Strictness(budgetAction) > BudgetRules.Strictness(action))
            {
                action = budgetAction;
            }

            if (budgetAction == "clamp" && budget.MaxOutputTokens is { } cap)
            {
                maxOutputTokens = Math.Min(maxOutputTokens ?? int.MaxValue, cap);
            }

            if (budgetAction == "fallback" && budget.FallbackModel is { } model && utilization > fallbackUtilization)
            {
                (fallbackModel, fallbackUtilization) = (model, utilization);
            }

            if (budgetAction == "queue" && budget.PeriodAt(now).End is var end && (queuedUntil is null || end > queuedUntil))
            {
                queuedUntil = end;
            }
        }

        int? retryAfterSeconds = action == "queue" && queuedUntil is { } until
            ? (int)Math.Max(1, Math.Ceiling((until - now).TotalSeconds))
            : null;

        evaluatedAt = unevaluated ? null : evaluatedAt;
        return policy.Mode == PolicyModes.Observe
            ? new PolicyResponse("allow", [.. reasons.Select(r => "observe mode, not enforced: " + r)], null, null, null, policy.Mode, ttlSeconds, budgets, evaluatedAt)
            : new PolicyResponse(action, reasons, maxOutputTokens, fallbackModel, retryAfterSeconds, policy.Mode, ttlSeconds, budgets, evaluatedAt);
    }

    private static string PeriodNoun(string period) => period switch
    {
        BudgetRules.Daily => "day",
        BudgetRules.Weekly => "week",
        _ => "month",
    };
}
