using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Features.Budgets;

/// <summary>
/// A budget's spend over a range, exact: the same rollup-plus-raw totals the dashboard shows (never a
/// counter that could drift), summed over the data modes the budget counts.
/// </summary>
internal static class BudgetSpend
{
    public static async Task<decimal> ForAsync(NpgsqlDataSource db, Budget budget, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var spend = 0m;
        foreach (var mode in budget.DataModes)
        {
            spend += (await UsageQueries.TotalsAsync(db, budget.WorkspaceId, Filter(budget, from, to, mode), ct)).CostUsd;
        }

        return spend;
    }

    /// <summary>The usage filter of a budget's scope: no dimension for the whole workspace, else its one value.</summary>
    public static UsageFilter Filter(Budget budget, DateTimeOffset from, DateTimeOffset to, string mode) =>
        new(from, to, mode, Environment: null,
            budget.ScopeDimension == BudgetRules.Workspace ? null : new Dictionary<string, string> { [budget.ScopeDimension] = budget.ScopeValue ?? "" });

    /// <summary>What drove a budget's spend in a period: the top values of endpoint, prompt version, tenant and user.</summary>
    public static async Task<IReadOnlyList<SpendDriver>> TopDriversAsync(NpgsqlDataSource db, Budget budget, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct, int perDimension = 3)
    {
        var drivers = new List<SpendDriver>();
        foreach (var dimension in Dimensions.All.Where(d => d.Attribution).Select(d => d.Name))
        {
            var byKey = new Dictionary<string, (decimal Cost, long Requests)>();
            foreach (var mode in budget.DataModes)
            {
                foreach (var row in await UsageQueries.GroupAsync(db, budget.WorkspaceId, Filter(budget, from, to, mode), dimension, perDimension, ct))
                {
                    var (cost, requests) = byKey.GetValueOrDefault(row.Key);
                    byKey[row.Key] = (cost + row.CostUsd, requests + row.Requests);
                }
            }

            drivers.AddRange(byKey.OrderByDescending(p => p.Value.Cost).ThenBy(p => p.Key, StringComparer.Ordinal).Take(perDimension)
                .Select(p => new SpendDriver(dimension, p.Key, p.Value.Cost, p.Value.Requests)));
        }

        return drivers;
    }
}

/// <summary>One dimension value's share of a budget's spend.</summary>
public sealed record SpendDriver(string Dimension, string Value, decimal CostUsd, long Requests);
