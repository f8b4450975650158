using System.Globalization;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.UnitTests.Features.Usage;

public sealed class RollupWindowTests
{
    // Saturday 2026-11-28 12:34:56 UTC.
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 34, 56, TimeSpan.Zero);

    private static DateTimeOffset Utc(int month, int day, int hour = 0) => new(2026, month, day, hour, 0, 0, TimeSpan.Zero);

    private static WindowPart Rollup(char period, DateTimeOffset from, DateTimeOffset to) => new(PartSource.Rollup, from, to, period);

    private static WindowPart Raw(DateTimeOffset from, DateTimeOffset to) => new(PartSource.Raw, from, to);

    private static WindowPart Less(DateTimeOffset from, DateTimeOffset to) => new(PartSource.FoldedSubtracted, from, to);

    private static WindowPart Tail(DateTimeOffset from, DateTimeOffset to) => new(PartSource.Unfolded, from, to);

    [Fact]
    public void A_past_range_of_users_reads_whole_months_weeks_and_days_and_short_edges_raw()
    {
        // Thursday 2026-08-27 18:00 to Friday 2026-11-20 06:00: six hours of each edge day are in the range.
        var window = RollupWindow.For(Utc(8, 27, 18), Utc(11, 20, 6), Now, dailyAllowed: true, hourlyAllowed: false)!;

        // 13 rows per user; by weeks and days alone it would be 18.
        Assert.Equal(
        new WindowPart[]
        {
            Raw(Utc(8, 27, 18), Utc(8, 28)), Raw(Utc(11, 20), Utc(11, 20, 6)), Rollup('d', Utc(8, 28), Utc(9, 1)), Rollup('m', Utc(9, 1), Utc(11, 1)),
            Rollup('d', Utc(11, 1), Utc(11, 2)), Rollup('w', Utc(11, 2), Utc(11, 16)), Rollup('d', Utc(11, 16), Utc(11, 20)), Tail(Utc(8, 28), Utc(11, 20)),
        }, window.Parts);
        Assert.Equal(DayOfWeek.Monday, Utc(11, 2).DayOfWeek);
    }

    [Fact]
    public void Weeks_are_read_instead_of_a_month_when_that_takes_fewer_rows()
    {
        // Monday 2026-08-24 to Monday 2026-10-12: seven weekly rows, against eight with September's monthly row.
        var window = RollupWindow.For(Utc(8, 24), Utc(10, 12), Now, dailyAllowed: true, hourlyAllowed: false)!;

        Assert.Equal(new WindowPart[] { Rollup('w', Utc(8, 24), Utc(10, 12)), Tail(Utc(8, 24), Utc(10, 12)) }, window.Parts);
    }

    [Fact]
    public void An_edge_day_mostly_inside_the_range_is_its_daily_row_less_the_events_outside()
    {
        // Thursday 2026-10-08 06:00 to Friday 2026-10-30 18:00: eighteen hours of each edge day are in the range, the six
        // outside are fewer events to read.
        var window = RollupWindow.For(Utc(10, 8, 6), Utc(10, 30, 18), Now, dailyAllowed: true, hourlyAllowed: false)!;

        Assert.Equal(
        new WindowPart[]
        {
            Less(Utc(10, 8), Utc(10, 8, 6)), Less(Utc(10, 30, 18), Utc(10, 31)), Rollup('d', Utc(10, 8), Utc(10, 12)), Rollup('w', Utc(10, 12), Utc(10, 26)),
            Rollup('d', Utc(10, 26), Utc(10, 31)), Tail(Utc(10, 8, 6), Utc(10, 30, 18)),
        }, window.Parts);
    }

    [Fact]
    public void An_edge_day_partly_past_raw_retention_is_read_raw_because_the_events_to_subtract_are_gone()
    {
        var window = RollupWindow.For(Utc(10, 8, 6), Utc(10, 30, 18), Now, dailyAllowed: true, hourlyAllowed: false, rawFrom: Utc(10, 8, 3))!;

        Assert.Contains(Raw(Utc(10, 8, 6), Utc(10, 9)), window.Parts);
        Assert.Contains(Less(Utc(10, 30, 18), Utc(10, 31)), window.Parts);
        Assert.DoesNotContain(Less(Utc(10, 8), Utc(10, 8, 6)), window.Parts);
    }

    [Fact]
    public void Ranges_at_the_end_of_the_calendar_are_read_raw()
    {
        Assert.Null(RollupWindow.For(new(9999, 12, 1, 0, 0, 0, TimeSpan.Zero), new(9999, 12, 31, 12, 0, 0, TimeSpan.Zero), Now, dailyAllowed: true, hourlyAllowed: false));
    }

    [Fact]
    public void Ninety_days_to_the_present_read_this_month_from_its_monthly_row_less_the_events_after_the_range()
    {
        var window = RollupWindow.For(Now.AddDays(-90), Now, Now, dailyAllowed: true, hourlyAllowed: false)!;

        Assert.Equal(
        new WindowPart[]
        {
            Raw(Now.AddDays(-90), Utc(8, 31)), Less(Now, Utc(12, 1)), Rollup('d', Utc(8, 31), Utc(9, 1)), Rollup('m', Utc(9, 1), Utc(12, 1)),
            Tail(Utc(8, 31), Now),
        }, window.Parts);
    }

    [Fact]
    public void Seven_days_to_the_present_read_this_week_from_its_weekly_row()
    {
        var window = RollupWindow.For(Now.AddDays(-7), Now, Now, dailyAllowed: true, hourlyAllowed: false)!;

        Assert.Equal(
        new WindowPart[]
        {
            Raw(Now.AddDays(-7), Utc(11, 22)), Less(Now, Utc(11, 30)), Rollup('d', Utc(11, 22), Utc(11, 23)), Rollup('w', Utc(11, 23), Utc(11, 30)),
            Tail(Utc(11, 22), Now),
        }, window.Parts);
    }

    [Fact]
    public void Seven_days_to_the_present_early_in_a_month_read_this_week_rather_than_this_month()
    {
        // Thursday 2026-12-03: this week's row and one daily row, against four daily rows and December's row.
        var thursday = new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
        var window = RollupWindow.For(thursday.AddDays(-7), thursday, thursday, dailyAllowed: true, hourlyAllowed: false)!;

        Assert.Equal(
        new WindowPart[]
        {
            Raw(thursday.AddDays(-7), Utc(11, 27)), Less(thursday, Utc(12, 7)), Rollup('d', Utc(11, 27), Utc(11, 30)), Rollup('w', Utc(11, 30), Utc(12, 7)),
            Tail(Utc(11, 27), thursday),
        }, window.Parts);
    }

    [Fact]
    public void The_last_24_hours_of_users_read_today_from_its_daily_row()
    {
        var window = RollupWindow.For(Now.AddDays(-1), Now, Now, dailyAllowed: true, hourlyAllowed: false)!;

        Assert.Equal(
        new WindowPart[] { Raw(Now.AddDays(-1), Utc(11, 28)), Less(Now, Utc(11, 29)), Rollup('d', Utc(11, 28), Utc(11, 29)), Tail(Utc(11, 28), Now) },
            window.Parts);
    }

    [Fact]
    public void Dimensions_with_hourly_rows_read_hours_at_the_edges_and_days_between_never_weeks()
    {
        var window = RollupWindow.For(Now.AddDays(-90), Now, Now, dailyAllowed: true)!;

        Assert.Equal(
        new WindowPart[]
        {
            new(PartSource.Raw, Now.AddDays(-90), Utc(8, 30, 13)), Rollup('h', Utc(8, 30, 13), Utc(8, 31)), Rollup('d', Utc(8, 31), Utc(11, 28)),
            Rollup('h', Utc(11, 28), Utc(11, 28, 12)), new(PartSource.Raw, Utc(11, 28, 12), Now), new(PartSource.Unfolded, Utc(8, 30, 13), Utc(11, 28, 12)),
        }, window.Parts);
    }

    [Fact]
    public void A_range_without_a_whole_week_reads_days_only()
    {
        // Wednesday to the next Tuesday: no Monday-to-Monday week inside.
        var window = RollupWindow.For(Utc(11, 4, 6), Utc(11, 10, 18), Now, dailyAllowed: true, hourlyAllowed: false)!;

        Assert.DoesNotContain(window.Parts, p => p.Period == 'w');
        Assert.Contains(Rollup('d', Utc(11, 4), Utc(11, 11)), window.Parts);
    }

    [Fact]
    public void Ranges_where_rollups_save_nothing_have_no_window()
    {
        // Twelve hours inside one day: each way of reading the edges touches as many events as the range holds.
        Assert.Null(RollupWindow.For(Utc(11, 4, 6), Utc(11, 4, 18), Now, dailyAllowed: true, hourlyAllowed: false));
        Assert.Null(RollupWindow.For(Utc(11, 4, 20), Utc(11, 5, 4), Now, dailyAllowed: true, hourlyAllowed: false));
        Assert.Null(RollupWindow.For(Now.AddMinutes(-40), Now, Now, dailyAllowed: true));
    }
    [Theory]
    [InlineData("2026-08-30T09:20:00Z", "2026-11-28T12:34:56Z", false)] // a 90-day preset of users: edge day as its row less the hours before
    [InlineData("2026-08-30T16:20:00Z", "2026-11-28T12:34:56Z", false)] // the same later in the day: the edge's hours inside, raw
    [InlineData("2026-09-03T05:10:00Z", "2026-11-20T17:45:00Z", false)] // a past range of users: both edges on finished days
    [InlineData("2026-08-30T09:20:00Z", "2026-11-28T12:34:56Z", true)]  // a few-valued dimension: partial hours raw, hourly and daily rows
    [InlineData("2026-08-30T09:20:17.5Z", "2026-11-28T12:34:56Z", true)] // a preset's start, to the second: its whole minutes kept
    [InlineData("2026-09-03T05:10:42Z", "2026-11-20T17:45:09Z", false)]  // both edges on finished days, to the second
    public void Split_at_the_finished_days_reads_exactly_what_the_parts_read(string from, string to, bool hourly)
    {
        var window = RollupWindow.For(DateTimeOffset.Parse(from, CultureInfo.InvariantCulture), DateTimeOffset.Parse(to, CultureInfo.InvariantCulture),
            Now, dailyAllowed: true, hourlyAllowed: hourly)!;
        var finishedBefore = new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);

        var (finished, live) = window.Split(finishedBefore);

        Assert.NotEmpty(finished);
        Assert.All(finished, p => Assert.True(p.To <= finishedBefore && p.Source is PartSource.Rollup or PartSource.Folded or PartSource.FoldedSubtracted));
        // Of the rollup rows, only those of the present's unit (its day, week or month) are read live.
        Assert.All(live.Where(p => p.Source == PartSource.Rollup), p => Assert.True(p.From >= finishedBefore.AddDays(-31)));
        // Kept raw parts are whole minutes: whole hours in one part, the minutes before and after them in parts of their own.
        Assert.All(finished.Where(p => p.Source != PartSource.Rollup), p => Assert.True(p.From.Second == 0 && p.To.Second == 0 &&
            ((p.From.Minute == 0 && p.To.Minute == 0) || p.To - p.From < TimeSpan.FromHours(1))));
        // Read live, raw events of finished days are at most the partial minutes at the edges.
        Assert.All(live.Where(p => p.Source is PartSource.Raw or PartSource.FoldedSubtracted && p.To <= finishedBefore),
            p => Assert.True(p.To - p.From < TimeSpan.FromMinutes(1)));
        // At every instant, both count a folded and a not-yet-folded event the same number of times.
        for (var t = window.Parts.Min(p => p.From).AddHours(-2); t < window.Parts.Max(p => p.To).AddHours(2); t = t.AddMinutes(5))
        {
            Assert.Equal(Counted(window.Parts, t), Counted([.. finished, .. live], t));
        }
    }

    [Fact]
    public void Cut_to_the_oldest_unfolded_event_the_tail_counts_every_event_at_or_after_it_and_none_is_read_when_there_is_none()
    {
        var window = RollupWindow.For(Now.AddDays(-90), Now, Now, dailyAllowed: true)!;
        var (_, live) = window.Split(new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero));
        var oldest = Now.AddDays(-37).AddMinutes(-13);

        var cut = RollupWindow.CutTail(live, oldest);

        Assert.Contains(live, p => p.Source == PartSource.Unfolded && p.From < oldest);
        Assert.All(cut.Where(p => p.Source == PartSource.Unfolded), p => Assert.True(p.From >= oldest));
        Assert.Equal(live.Where(p => p.Source != PartSource.Unfolded), cut.Where(p => p.Source != PartSource.Unfolded));
        // An unfolded event at or after the oldest is counted as often as before the cut; none is older.
        for (var t = oldest; t < Now; t = t.AddMinutes(7))
        {
            Assert.Equal(Counted(live, t), Counted(cut, t));
        }

        Assert.DoesNotContain(RollupWindow.CutTail(live, null), p => p.Source == PartSource.Unfolded);
        Assert.DoesNotContain(RollupWindow.CutTail(live, Now.AddMinutes(10)), p => p.Source == PartSource.Unfolded);
    }

    /// <summary>How many times the parts count an event at <paramref name="t"/>: one folded in already, and one not yet.</summary>
    private static (int Folded, int Unfolded) Counted(IEnumerable<WindowPart> parts, DateTimeOffset t) =>
        parts.Where(p => p.From <= t && t < p.To).Aggregate((Folded: 0, Unfolded: 0), (sum, p) => p.Source switch
        {
            PartSource.Rollup or PartSource.Folded => (sum.Folded + 1, sum.Unfolded),
            PartSource.FoldedSubtracted => (sum.Folded - 1, sum.Unfolded),
            PartSource.Unfolded => (sum.Folded, sum.Unfolded + 1),
            _ => (sum.Folded + 1, sum.Unfolded + 1),
        });
}
