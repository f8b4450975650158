namespace Opsmeter.Web.Features.Budgets;

/// <summary>The vocabulary of budgets (docs/api.md "Budgets") and the rules that turn spend into a state.</summary>
internal static class BudgetRules
{
    public const string Workspace = "workspace";
    public const string Daily = "daily";
    public const string Weekly = "weekly";
    public const string Monthly = "monthly";
    public const string Ok = "ok";
    public const string Warning = "warning";
    public const string Exceeded = "exceeded";

    /// <summary>What a budget can be scoped to: the whole workspace or one value of these event fields.</summary>
    public static readonly string[] Dimensions = [Workspace, .. Events.Dimensions.Names];
    public static readonly string[] Periods = [Daily, Weekly, Monthly];

    /// <summary>From the mildest to the strictest: the policy answers with the strictest that applies.</summary>
    public static readonly string[] Actions = ["allow", "warn", "clamp", "fallback", "queue", "block"];

    public static int Strictness(string action) => Array.IndexOf(Actions, action);

    public static TimeZoneInfo? FindZone(string? name) =>
        name is { Length: > 0 } && TimeZoneInfo.TryFindSystemTimeZoneById(name, out var zone) ? zone : null;

    public static BudgetPeriod CurrentPeriod(Budget budget, DateTimeOffset now) =>
        BudgetPeriod.Containing(now, budget.Period, FindZone(budget.TimeZone) ?? TimeZoneInfo.Utc);

    public static decimal Utilization(decimal spendUsd, decimal limitUsd) =>
        limitUsd <= 0 ? 0 : Pricing.Money.Normalize(Math.Round(spendUsd / limitUsd, 4));

    /// <summary>exceeded at or over the limit, warning at or over the lowest threshold, else ok.</summary>
    public static string State(decimal spendUsd, decimal limitUsd, IReadOnlyCollection<decimal> thresholds) =>
        spendUsd >= limitUsd ? Exceeded
        : thresholds.Count > 0 && spendUsd >= thresholds.Min() * limitUsd ? Warning
        : Ok;

    /// <summary>The highest warning threshold that spend has reached, or null.</summary>
    public static decimal? HighestThresholdReached(decimal spendUsd, decimal limitUsd, IEnumerable<decimal> thresholds) =>
        thresholds.Where(t => spendUsd >= t * limitUsd).Select(t => (decimal?)t).Max();

    /// <summary>
    /// Spend at period end if it goes on at the rate so far. Undefined in the period's first minutes, where
    /// the rate says nothing: the spend itself is the forecast then.
    /// </summary>
    public static decimal Forecast(decimal spendUsd, BudgetPeriod period, DateTimeOffset now)
    {
        var elapsed = now - period.Start;
        if (elapsed < TimeSpan.FromMinutes(15))
        {
            return spendUsd;
        }

        var forecast = spendUsd * (decimal)period.Length.Ticks / elapsed.Ticks;
        return Math.Round(forecast, 2);
    }

    /// <summary>Whether a budget counts an event with these dimension values (data mode included).</summary>
    public static bool Applies(string dimension, string? value, IReadOnlyList<string> dataModes, Func<string, string?> eventValue, string? dataMode) =>
        (dataMode is null || dataModes.Contains(dataMode))
        && (dimension == Workspace || (eventValue(dimension) is { } actual && string.Equals(actual, value, StringComparison.Ordinal)));
}
