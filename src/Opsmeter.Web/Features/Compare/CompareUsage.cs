using Npgsql;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Features.Compare;

/// <summary>One window's figures of a group, with the per-request ratios a comparison needs.</summary>
public sealed record WindowFigures(long Requests, decimal CostUsd, decimal CostPerRequestUsd, decimal TokensPerRequest, long Errors)
{
    public static readonly WindowFigures None = new(0, 0, 0, 0, 0);

    internal static WindowFigures From(UsageRow row) => new(row.Requests, row.CostUsd, row.CostPerRequestUsd,
        row.Requests == 0 ? 0 : Math.Round((decimal)(row.InputTokens + row.OutputTokens) / row.Requests, 1), row.Errors);
}

/// <summary>A group's change from the baseline to the current window; <c>ShareOfChange</c> is its part of the total cost change.</summary>
public sealed record CompareRow(string Key, WindowFigures Current, WindowFigures Baseline, decimal CostDeltaUsd, decimal CostPerRequestDeltaUsd,
    decimal TokensPerRequestDelta, decimal? ShareOfChange);

public sealed record CompareResponse(string GroupBy, DateTimeOffset From, DateTimeOffset To, DateTimeOffset BaselineFrom, DateTimeOffset BaselineTo,
    WindowFigures Current, WindowFigures Baseline, decimal CostDeltaUsd, IReadOnlyList<CompareRow> Rows, bool Truncated);

/// <summary>
/// "What changed": the current window against a baseline (by default the equal window just before), per value of one
/// dimension, ranked by the absolute change in cost. Both windows come from <see cref="UsageQueries"/>, so each side
/// equals what the dashboard shows for that range; the ranking and the cut to the largest changes happen in PostgreSQL.
/// </summary>
internal static class CompareUsage
{
    /// <summary>At most <paramref name="maxGroups"/> rows, the largest changes, cut in the database; the totals are over every event.</summary>
    public static async Task<CompareResponse> CompareAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter current, UsageFilter baseline,
        string groupBy, int maxGroups, CancellationToken ct)
    {
        var ranked = await UsageQueries.CompareGroupsAsync(db, workspaceId, current, baseline, groupBy, maxGroups + 1, ct);
        var currentTotal = WindowFigures.From(await UsageQueries.TotalsAsync(db, workspaceId, current, ct));
        var baselineTotal = WindowFigures.From(await UsageQueries.TotalsAsync(db, workspaceId, baseline, ct));
        var totalDelta = currentTotal.CostUsd - baselineTotal.CostUsd;

        var rows = ranked.Take(maxGroups)
            .Select(group =>
            {
                var (c, b) = (WindowFigures.From(group.Current), WindowFigures.From(group.Baseline));
                var delta = c.CostUsd - b.CostUsd;
                return new CompareRow(group.Key, c, b, Money.Normalize(delta), Money.Normalize(c.CostPerRequestUsd - b.CostPerRequestUsd),
                    c.TokensPerRequest - b.TokensPerRequest, totalDelta == 0 ? null : Math.Round(delta / totalDelta, 4));
            })
            .ToList();
        return new CompareResponse(groupBy, current.From, current.To, baseline.From, baseline.To, currentTotal, baselineTotal,
            Money.Normalize(totalDelta), rows, Truncated: ranked.Count > maxGroups);
    }

    /// <summary>Reads ?baselineFrom= and ?baselineTo=; without them the baseline is the equal window just before.</summary>
    public static (UsageFilter Baseline, Dictionary<string, string[]> Errors) ReadBaseline(IQueryCollection query, UsageFilter current)
    {
        var errors = new Dictionary<string, string[]>();
        var length = current.To - current.From;
        var to = UsageFilterReader.Time(query, "baselineTo", errors) ?? current.From;
        var from = UsageFilterReader.Time(query, "baselineFrom", errors) ?? to - length;
        if (from >= to)
        {
            errors["baselineFrom"] = ["baselineFrom must be before baselineTo."];
        }

        return (current with { From = from, To = to }, errors);
    }
}
