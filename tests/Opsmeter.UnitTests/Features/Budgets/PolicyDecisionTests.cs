using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Policy;

namespace Opsmeter.UnitTests.Features.Budgets;

public sealed class PolicyDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly BudgetPeriod June = new(new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), new(2026, 7, 1, 0, 0, 0, TimeSpan.Zero));

    private static BudgetStanding Budget(string name, string action, decimal spend, string dimension = "endpointTag", string? value = "chat",
        int? maxTokens = null, string? fallback = null, BudgetPeriod? period = null) =>
        new(Guid.NewGuid(), name, dimension, value, ["real"], 100m, [0.8m], action, maxTokens, fallback, BudgetRules.Monthly, period ?? June, spend);

    private static PolicyResponse Decide(string mode, params BudgetStanding[] budgets) =>
        GetPolicy.Decide(new WorkspacePolicy(mode, budgets), name => name == "endpointTag" ? "chat" : null, Now);

    [Fact]
    public void The_strictest_applying_action_wins_with_its_parameters()
    {
        var decision = Decide(PolicyModes.Enforce,
            Budget("warned", "block", 85m),
            Budget("clamped", "clamp", 120m, maxTokens: 512),
            Budget("clamped harder", "clamp", 101m, maxTokens: 256),
            Budget("other endpoint", "block", 500m, value: "search"));
        Assert.Equal("clamp", decision.Action);
        Assert.Equal(256, decision.MaxOutputTokens);
        Assert.Equal(3, decision.Budgets.Count);
        Assert.Equal(3, decision.Reasons.Count);

        var blocked = Decide(PolicyModes.Enforce, Budget("fallback", "fallback", 150m, fallback: "gpt-4o-mini"), Budget("all", "block", 100m, "workspace", null));
        Assert.Equal(("block", "gpt-4o-mini"), (blocked.Action, blocked.FallbackModel));
    }

    [Fact]
    public void Queue_is_stricter_than_fallback_and_retries_when_the_latest_queue_budget_period_ends()
    {
        var daily = new BudgetStanding(Guid.NewGuid(), "daily", "endpointTag", "chat", ["real"], 10m, [0.8m], "queue", null, null,
            BudgetRules.Daily, BudgetPeriod.Containing(Now, BudgetRules.Daily, TimeZoneInfo.Utc), 11m);

        var queued = Decide(PolicyModes.Enforce, Budget("fallback", "fallback", 150m, fallback: "gpt-4o-mini"), daily);
        Assert.Equal(("queue", "gpt-4o-mini", (int?)12 * 3600), (queued.Action, queued.FallbackModel, queued.RetryAfterSeconds));

        // Two exceeded queue budgets: the work can go once both have started a new period, at the end of June.
        var both = Decide(PolicyModes.Enforce, daily, Budget("monthly", "queue", 120m));
        Assert.Equal((int?)(June.End - Now).TotalSeconds, both.RetryAfterSeconds);

        var blocked = Decide(PolicyModes.Enforce, daily, Budget("all", "block", 100m, "workspace", null));
        Assert.Equal(("block", (int?)null), (blocked.Action, blocked.RetryAfterSeconds));
        Assert.Null(Decide(PolicyModes.Observe, daily).RetryAfterSeconds);
    }

    [Fact]
    public void Budgets_under_their_thresholds_or_from_an_ended_period_allow()
    {
        var may = new BudgetPeriod(new(2026, 5, 1, 0, 0, 0, TimeSpan.Zero), new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var decision = Decide(PolicyModes.Enforce, Budget("quiet", "block", 10m), Budget("last month", "block", 900m, period: may));
        Assert.Equal("allow", decision.Action);
        Assert.Empty(decision.Reasons);
        Assert.All(decision.Budgets, b => Assert.Equal("ok", b.State));
    }

    [Fact]
    public void Observe_mode_reports_the_reasons_but_allows_and_changes_nothing()
    {
        var decision = Decide(PolicyModes.Observe, Budget("blocked", "block", 200m), Budget("clamped", "clamp", 200m, maxTokens: 100));
        Assert.Equal(("allow", "observe", (int?)null), (decision.Action, decision.Mode, decision.MaxOutputTokens));
        Assert.Equal(2, decision.Reasons.Count);
        Assert.All(decision.Reasons, r => Assert.StartsWith("observe mode", r));
    }
}
