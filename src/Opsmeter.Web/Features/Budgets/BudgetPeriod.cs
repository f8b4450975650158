namespace Opsmeter.Web.Features.Budgets;

/// <summary>
/// The calendar period that contains an instant, in a budget's time zone: a day from local midnight,
/// an ISO week from Monday midnight, or a month from the first. Start inclusive, end exclusive, both UTC,
/// so a day across a DST change is 23 or 25 hours long.
/// </summary>
internal readonly record struct BudgetPeriod(DateTimeOffset Start, DateTimeOffset End)
{
    public TimeSpan Length => End - Start;

    public static BudgetPeriod Containing(DateTimeOffset instant, string period, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime.Date;
        var (start, end) = period switch
        {
            BudgetRules.Daily => (local, local.AddDays(1)),
            BudgetRules.Weekly => (local.AddDays(-(((int)local.DayOfWeek + 6) % 7)), local.AddDays(7 - (((int)local.DayOfWeek + 6) % 7))),
            BudgetRules.Monthly => (new DateTime(local.Year, local.Month, 1), new DateTime(local.Year, local.Month, 1).AddMonths(1)),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "Unknown budget period."),
        };
        return new BudgetPeriod(ToUtc(start, zone), ToUtc(end, zone));
    }

    /// <summary>
    /// The instant a local midnight happens. Where midnight is skipped (a DST gap, as in Santiago) the day
    /// starts when the clocks jump; where it happens twice, at the first one.
    /// </summary>
    private static DateTimeOffset ToUtc(DateTime localMidnight, TimeZoneInfo zone)
    {
        var unspecified = DateTime.SpecifyKind(localMidnight, DateTimeKind.Unspecified);
        TimeSpan offset;
        if (zone.IsInvalidTime(unspecified))
        {
            offset = zone.GetUtcOffset(unspecified.AddDays(-1));
        }
        else if (zone.IsAmbiguousTime(unspecified))
        {
            offset = zone.GetAmbiguousTimeOffsets(unspecified).Max();
        }
        else
        {
            offset = zone.GetUtcOffset(unspecified);
        }

        return new DateTimeOffset(unspecified, offset).ToUniversalTime();
    }
}
