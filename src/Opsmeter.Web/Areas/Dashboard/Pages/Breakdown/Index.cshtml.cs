using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Breakdown;

/// <summary>One dimension's table (endpoints, prompt versions, models, users, tenants, providers), sortable, each row drilling down to its events.</summary>
internal sealed class IndexModel(CurrentWorkspace current, NpgsqlDataSource data, TimeProvider clock, IOptions<QueryOptions> limits)
    : DashboardPageModel(current)
{
    public static readonly IReadOnlyDictionary<string, string> Titles = Dimensions.All.ToDictionary(d => d.Name, d => d.Title);

    private static readonly Dictionary<string, Func<UsageRow, IComparable?>> Sorts = new()
    {
        ["key"] = r => r.Key, ["cost"] = r => r.CostUsd, ["requests"] = r => r.Requests, ["errors"] = r => r.Errors,
        ["tokensPerRequest"] = r => TokensPerRequest(r), ["costPerRequest"] = r => r.CostPerRequestUsd,
        ["avgLatency"] = r => r.AvgLatencyMs, ["p95Latency"] = r => r.P95LatencyMs,
    };

    public string Dimension { get; private set; } = "";

    public override string Nav => Dimension;

    public override string SummaryGroupBy => Dimension;
    public UsageFilter Filter { get; private set; } = null!;
    public List<UsageRow> Rows { get; private set; } = [];
    public string Sort { get; private set; } = "cost";
    public bool Descending { get; private set; } = true;

    /// <summary>The dimension has more values than the table shows: only the largest by spend are in it.</summary>
    public bool Truncated { get; private set; }

    public async Task<IActionResult> OnGetAsync(string dimension, string? sort, string? dir, CancellationToken ct)
    {
        if (!Titles.ContainsKey(dimension))
        {
            return NotFound();
        }

        Dimension = dimension;
        (Filter, _, _) = UsageFilterReader.Read(Request.Query, clock.GetUtcNow(), defaultGroupBy: dimension);
        Filter = UsageFilterReader.Clamp(Filter, limits.Value.MaxRange);
        var maxGroups = limits.Value.MaxGroups;
        Rows = await UsageQueries.GroupAsync(data, Membership.WorkspaceId, Filter, dimension, limit: maxGroups + 1, ct);
        Truncated = Rows.Count > maxGroups;
        Rows = [.. Rows.Take(maxGroups)];
        Sort = sort is not null && Sorts.ContainsKey(sort) ? sort : "cost";
        Descending = dir != "asc";
        Rows = Descending ? [.. Rows.OrderByDescending(Sorts[Sort])] : [.. Rows.OrderBy(Sorts[Sort])];
        return Page();
    }

    public static double TokensPerRequest(UsageRow row) => row.Requests == 0 ? 0 : (double)(row.InputTokens + row.OutputTokens) / row.Requests;

    /// <summary>The link of a column header: sorts by it, flipping the direction when it is already the sort.</summary>
    public string SortLink(string column) => DashboardPageModel.FilterQuery(Request.Query,
        ("sort", column), ("dir", Sort == column && Descending ? "asc" : "desc"));

    public string SortMark(string column) => Sort != column ? "" : Descending ? " ▾" : " ▴";
}
