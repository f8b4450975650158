using Microsoft.Extensions.Time.Testing;
using Opsmeter.Web.Features.Budgets;

namespace Opsmeter.UnitTests.Features.Budgets;

/// <summary>Periods follow the calendar of the budget's time zone, DST changes included.</summary>
public sealed class BudgetPeriodTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
    private static readonly TimeZoneInfo Santiago = TimeZoneInfo.FindSystemTimeZoneById("America/Santiago");

    private static DateTimeOffset Utc(int y, int mo, int d, int h = 0, int mi = 0) => new(y, mo, d, h, mi, 0, TimeSpan.Zero);

    [Fact]
    public void A_day_in_UTC_runs_from_midnight_to_midnight()
    {
        var clock = new FakeTimeProvider(Utc(2026, 3, 10, 23, 59));
        var period = BudgetPeriod.Containing(clock.GetUtcNow(), BudgetRules.Daily, TimeZoneInfo.Utc);
        Assert.Equal((Utc(2026, 3, 10), Utc(2026, 3, 11)), (period.Start, period.End));

        clock.Advance(TimeSpan.FromMinutes(1)); // midnight belongs to the next day
        Assert.Equal(Utc(2026, 3, 11), BudgetPeriod.Containing(clock.GetUtcNow(), BudgetRules.Daily, TimeZoneInfo.Utc).Start);
    }

    [Fact]
    public void A_day_in_Kolkata_starts_at_18_30_UTC_the_evening_before()
    {
        var period = BudgetPeriod.Containing(Utc(2026, 5, 1, 20), BudgetRules.Daily, Kolkata);
        Assert.Equal((Utc(2026, 5, 1, 18, 30), Utc(2026, 5, 2, 18, 30)), (period.Start, period.End));
    }

    [Fact]
    public void The_day_clocks_spring_forward_in_Berlin_lasts_23_hours_and_the_day_they_fall_back_25()
    {
        var spring = BudgetPeriod.Containing(Utc(2026, 3, 29, 12), BudgetRules.Daily, Berlin);
        Assert.Equal((Utc(2026, 3, 28, 23), Utc(2026, 3, 29, 22)), (spring.Start, spring.End));
        Assert.Equal(TimeSpan.FromHours(23), spring.Length);

        var autumn = BudgetPeriod.Containing(Utc(2026, 10, 25, 12), BudgetRules.Daily, Berlin);
        Assert.Equal(TimeSpan.FromHours(25), autumn.Length);
        Assert.Equal(Utc(2026, 10, 24, 22), autumn.Start);
    }

    [Fact]
    public void A_month_in_New_York_spans_the_DST_change_and_starts_at_local_midnight()
    {
        var march = BudgetPeriod.Containing(Utc(2026, 3, 20), BudgetRules.Monthly, NewYork);
        Assert.Equal(Utc(2026, 3, 1, 5), march.Start);   // EST, UTC-5
        Assert.Equal(Utc(2026, 4, 1, 4), march.End);     // EDT, UTC-4
        // 04:30 UTC on April 1st is still March 31st in New York.
        Assert.Equal(march.Start, BudgetPeriod.Containing(Utc(2026, 4, 1, 3, 30), BudgetRules.Monthly, NewYork).Start);
    }

    [Fact]
    public void Weeks_start_on_Monday_in_the_budget_time_zone()
    {
        // Sunday 2026-11-29 23:30 UTC is already Monday 00:30 in Berlin.
        var week = BudgetPeriod.Containing(Utc(2026, 11, 29, 23, 30), BudgetRules.Weekly, Berlin);
        Assert.Equal((Utc(2026, 11, 29, 23), Utc(2026, 12, 6, 23)), (week.Start, week.End));
        Assert.Equal(DayOfWeek.Monday, TimeZoneInfo.ConvertTime(week.Start, Berlin).DayOfWeek);
    }

    [Fact]
    public void Where_midnight_does_not_exist_the_day_starts_when_the_clocks_jump()
    {
        // Chile moved clocks from 00:00 to 01:00 on 2026-09-06: that day starts at 04:00 UTC (00:00 at UTC-4 = 01:00 at UTC-3).
        var day = BudgetPeriod.Containing(Utc(2026, 9, 6, 12), BudgetRules.Daily, Santiago);
        Assert.Equal(Utc(2026, 9, 6, 4), day.Start);
        Assert.Equal(TimeSpan.FromHours(23), day.Length);
    }

    [Fact]
    public void The_forecast_extends_the_burn_rate_to_period_end_and_states_follow_the_thresholds()
    {
        var period = new BudgetPeriod(Utc(2026, 6, 1), Utc(2026, 7, 1));
        Assert.Equal(300m, BudgetRules.Forecast(100m, period, Utc(2026, 6, 11)));
        Assert.Equal(5m, BudgetRules.Forecast(5m, period, Utc(2026, 6, 1, 0, 5))); // too early to say: the spend itself
        Assert.Equal("ok", BudgetRules.State(49.99m, 100m, [0.5m, 0.8m]));
        Assert.Equal("warning", BudgetRules.State(50m, 100m, [0.5m, 0.8m]));
        Assert.Equal("exceeded", BudgetRules.State(100m, 100m, [0.5m, 0.8m]));
        Assert.Equal("ok", BudgetRules.State(99m, 100m, []));
        Assert.Equal(0.8m, BudgetRules.HighestThresholdReached(85m, 100m, [0.5m, 0.8m]));
    }
}
