namespace Opsmeter.Web.Features.Usage;

/// <summary>What one part of a <see cref="RollupWindow"/> reads over [From, To).</summary>
internal enum PartSource
{
    /// <summary>Rollup rows of <see cref="WindowPart.Period"/> whose bucket starts in the range.</summary>
    Rollup,

    /// <summary>Every raw event in the range, folded in or not.</summary>
    Raw,

    /// <summary>Raw events already folded in, subtracted: they are in a rollup row that reaches past the range.</summary>
    FoldedSubtracted,

    /// <summary>Raw events not folded in yet (the tail behind the rollup worker).</summary>
    Unfolded,

    /// <summary>Raw events already folded in (a finished day's whole hours of a <see cref="Raw"/> edge; the rest are in the tail).</summary>
    Folded,
}

/// <summary>One part of a window; <paramref name="Period"/> is 'h', 'd' or 'w' for rollup parts.</summary>
internal sealed record WindowPart(PartSource Source, DateTimeOffset From, DateTimeOffset To, char Period = ' ');

/// <summary>
/// How a range [from, to) is read: as few rollup rows as possible, raw events only at the edges, and the events the
/// rollup worker has not folded in yet. The parts add up to exactly the events in the range (RollupTests).
/// </summary>
internal sealed record RollupWindow(IReadOnlyList<WindowPart> Parts)
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1), Hour = TimeSpan.FromHours(1), Day = TimeSpan.FromDays(1),
        Week = TimeSpan.FromDays(7);

    // 1970-01-05 was a Monday: weeks counted from it start on Mondays, as PostgreSQL's date_trunc('week', …) does.
    private static readonly DateTimeOffset LastPlannable = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly long MondayTicks = new DateTimeOffset(1970, 1, 5, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    /// <param name="from">Start of the range (inclusive).</param>
    /// <param name="to">End of the range (exclusive).</param>
    /// <param name="now">The present, when known: there are no events after it but the few accepted minutes ahead.</param>
    /// <param name="dailyAllowed">False when rows are wanted per hour.</param>
    /// <param name="hourlyAllowed">
    /// False for the dimensions rolled up by day, week and month, never by hour (<see cref="UsageRollupSql.DailyOnly"/>), read by
    /// <see cref="ByDaysWeeksAndMonths"/>.
    /// </param>
    /// <param name="rawFrom">
    /// Where the workspace's raw events may begin (its raw retention): events are subtracted from a rollup row only
    /// where all of them are still stored. Null: all are.
    /// </param>
    /// <returns>Null when no whole rollup unit fits in the range: then raw events are all there is to read.</returns>
    public static RollupWindow? For(DateTimeOffset from, DateTimeOffset to, DateTimeOffset? now, bool dailyAllowed, bool hourlyAllowed = true,
        DateTimeOffset? rawFrom = null)
    {
        from = from.ToUniversalTime();
        to = to.ToUniversalTime();
        if (to > LastPlannable || from > LastPlannable)
        {
            return null; // too close to the end of the calendar to add a month: raw events alone
        }

        if (!hourlyAllowed)
        {
            return ByDaysWeeksAndMonths(from, to, now, rawFrom ?? DateTimeOffset.MinValue);
        }

        // Partial hours at the edges raw, whole hours up to the first and from the last midnight, whole days between.
        var (h1, h2) = (Ceiling(from, Hour), Floor(to, Hour));
        if (h1 >= h2)
        {
            return null;
        }

        var (d1, d2) = (Ceiling(h1, Day), Floor(h2, Day));
        if (!dailyAllowed || d1 >= d2)
        {
            (d1, d2) = (h2, h2);
        }

        return Of(
            new(PartSource.Raw, from, h1), new(PartSource.Rollup, h1, d1, 'h'), new(PartSource.Rollup, d1, d2, 'd'),
            new(PartSource.Rollup, d2, h2, 'h'), new(PartSource.Raw, h2, to), new(PartSource.Unfolded, h1, h2));
    }

    /// <summary>
    /// userId and tenantId have daily, weekly and monthly rows only, so each edge of the range falls inside a day. An edge
    /// day is read whichever way touches fewer events: its part inside the range raw, or its daily row less the events of
    /// its part outside the range. A range that reaches the present takes the current month's (or week's) row whole,
    /// less the events after it (none, bar the few minutes ingest accepts ahead). The whole days between are read from
    /// as few rows as <see cref="Tile"/> finds.
    /// </summary>
    private static RollupWindow? ByDaysWeeksAndMonths(DateTimeOffset from, DateTimeOffset to, DateTimeOffset? now, DateTimeOffset rawFrom)
    {
        // The events a span can hold, by its length: none after the present (plus the ingest tolerance).
        var future = now?.AddMinutes(5) ?? DateTimeOffset.MaxValue;
        TimeSpan Events(DateTimeOffset a, DateTimeOffset b) => (b < future ? b : future) - a is { Ticks: > 0 } span ? span : TimeSpan.Zero;

        var parts = new List<WindowPart>();
        var (start, tailFrom) = (from, from);
        if (Floor(from, Day) is var day && day != from)
        {
            // Subtracting needs every event of [day, from) still stored: not so before the raw retention cutoff.
            if (Events(from, day.Add(Day)) <= Events(day, from) || day < rawFrom)
            {
                parts.Add(new(PartSource.Raw, from, day.Add(Day)));
                (start, tailFrom) = (day.Add(Day), day.Add(Day));
            }
            else
            {
                parts.Add(new(PartSource.FoldedSubtracted, day, from));
                start = day;
            }
        }

        var (end, tailTo) = (to, to);
        // Reaching the present, the current month's or week's row can stand for the rest of the range: whichever leaves
        // fewer rows to read.
        var (month, week) = (FloorMonth(to), Floor(to, Week));
        DateTimeOffset[] openEnds = now is { } present && to >= present && to >= rawFrom
            ? [.. new[] { (Start: month, End: month.AddMonths(1)), (Start: week, End: week.Add(Week)) }
                .Where(open => start <= open.Start && open.Start < to).Select(open => open.End)]
            : [];
        if (openEnds.Length > 0)
        {
            end = openEnds.MinBy(e => Rows(Tile(start, e)));
            parts.Add(new(PartSource.FoldedSubtracted, to, end));
        }
        else if (Floor(to, Day) is var lastDay && lastDay != to)
        {
            if (Events(lastDay, to) <= Events(to, lastDay.Add(Day)) || to < rawFrom)
            {
                parts.Add(new(PartSource.Raw, lastDay, to));
                (end, tailTo) = (lastDay, lastDay);
            }
            else
            {
                parts.Add(new(PartSource.FoldedSubtracted, to, lastDay.Add(Day)));
                end = lastDay.Add(Day);
            }
        }

        var edges = parts.Aggregate(TimeSpan.Zero, (sum, p) => sum + Events(p.From, p.To));
        if (start >= end || edges >= Events(from, to))
        {
            return null;
        }

        return Of([.. parts, .. Tile(start, end), new(PartSource.Unfolded, tailFrom, tailTo)]);
    }

    /// <summary>
    /// Whole days [start, end) as the fewest daily, weekly and monthly rows. Weeks do not nest in months, so two tilings
    /// are compared: days to the first Monday, weeks, days after the last; or whole months with those around them.
    /// </summary>
    private static List<WindowPart> Tile(DateTimeOffset start, DateTimeOffset end)
    {
        var byWeeks = WeeksAndDays(start, end);
        var (m1, m2) = (FloorMonth(start) == start ? start : FloorMonth(start).AddMonths(1), FloorMonth(end));
        if (m1 >= m2)
        {
            return byWeeks;
        }

        List<WindowPart> byMonths = [.. WeeksAndDays(start, m1), new(PartSource.Rollup, m1, m2, 'm'), .. WeeksAndDays(m2, end)];
        return Rows(byMonths) < Rows(byWeeks) ? byMonths : byWeeks;
    }

    private static List<WindowPart> WeeksAndDays(DateTimeOffset start, DateTimeOffset end)
    {
        var (w1, w2) = (Ceiling(start, Week), Floor(end, Week));
        return w1 < w2
            ? [new(PartSource.Rollup, start, w1, 'd'), new(PartSource.Rollup, w1, w2, 'w'), new(PartSource.Rollup, w2, end, 'd')]
            : [new(PartSource.Rollup, start, end, 'd')];
    }

    /// <summary>
    /// The parts split at <paramref name="finishedBefore"/> (<see cref="Events.RollupGenerations.ReaderFinishedBefore"/>):
    /// what stays the same until the workspace's rollup generation moves (rollup rows of finished days, and the folded raw
    /// events of an edge's whole minutes on a finished day: its whole hours as one part, the minutes before and after them
    /// as parts of their own, since a preset's edge moves every minute and its hours only every hour), and what is read
    /// live (the rest, the edges' partial minutes, and the tail, which takes in the not-yet-folded events of the finished
    /// minutes of a raw edge). Both together read exactly what the parts read.
    /// </summary>
    public (List<WindowPart> Finished, List<WindowPart> Live) Split(DateTimeOffset finishedBefore)
    {
        var (finished, live) = (new List<WindowPart>(), new List<WindowPart>());
        foreach (var part in Parts)
        {
            var (a, b) = (Ceiling(part.From, Hour), Floor(part.To, Hour));
            var (first, last) = (Ceiling(part.From, Minute), Floor(part.To, Minute));
            if (part.Source == PartSource.Rollup && part.From < finishedBefore)
            {
                // A run of rows reaching the present (the months up to the current one) is finished up to its last whole unit.
                var cut = part.To <= finishedBefore ? part.To : part.Period switch
                {
                    'h' => Floor(finishedBefore, Hour),
                    'd' => Floor(finishedBefore, Day),
                    'w' => Floor(finishedBefore, Week),
                    _ => FloorMonth(finishedBefore),
                };
                finished.Add(part with { To = cut });
                live.Add(part with { From = cut });
            }
            else if (part.To > finishedBefore || part.Source is PartSource.Unfolded or PartSource.Rollup || first >= last)
            {
                live.Add(part);
            }
            else
            {
                live.AddRange([part with { To = first }, part with { From = last }]);
                var source = part.Source == PartSource.Raw ? PartSource.Folded : part.Source;
                finished.AddRange(a < b ? [new(source, first, a), new(source, a, b), new(source, b, last)] : [new(source, first, last)]);
                if (part.Source == PartSource.Raw)
                {
                    live.Add(new(PartSource.Unfolded, first, last));
                }
            }
        }

        return ([.. finished.Where(p => p.From < p.To)], [.. live.Where(p => p.From < p.To)]);
    }

    /// <summary>
    /// <paramref name="parts"/> with each tail part (<see cref="PartSource.Unfolded"/>) cut to start at
    /// <paramref name="unfoldedFrom"/>, the oldest time of an event not folded in yet, and left out when there is none (null)
    /// or it is past the part: no event of the tail is older, so the parts still read exactly the same events.
    /// </summary>
    public static List<WindowPart> CutTail(IEnumerable<WindowPart> parts, DateTimeOffset? unfoldedFrom) =>
        [.. parts.Select(p => p.Source != PartSource.Unfolded ? p
                : unfoldedFrom is { } oldest ? p with { From = oldest > p.From ? oldest : p.From }
                : p with { From = p.To })
            .Where(p => p.From < p.To)];

    /// <summary>How many rollup rows per value the parts read.</summary>
    private static int Rows(IEnumerable<WindowPart> parts) => parts.Sum(p => p.Period switch
    {
        'd' => (int)((p.To - p.From) / Day),
        'w' => (int)((p.To - p.From) / Week),
        _ => ((p.To.Year - p.From.Year) * 12) + p.To.Month - p.From.Month,
    });

    private static DateTimeOffset FloorMonth(DateTimeOffset t) => new(t.Year, t.Month, 1, 0, 0, 0, TimeSpan.Zero);

    private static RollupWindow Of(params WindowPart[] parts) => new([.. parts.Where(p => p.From < p.To)]);

    private static DateTimeOffset Floor(DateTimeOffset t, TimeSpan unit) =>
        new(t.UtcTicks - ((((t.UtcTicks - MondayTicks) % unit.Ticks) + unit.Ticks) % unit.Ticks), TimeSpan.Zero);

    private static DateTimeOffset Ceiling(DateTimeOffset t, TimeSpan unit) => Floor(t, unit) == t ? t : Floor(t, unit).Add(unit);
}
