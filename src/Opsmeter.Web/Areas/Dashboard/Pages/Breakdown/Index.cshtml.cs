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

    /// <summary>Rows a page of the table shows: a person reads the first screen, and a thousand rows took longer to render than to query.</summary>
    public const int PageSize = 100;

    public int PageNumber { get; private set; } = 1;

    /// <summary>All the groups the table holds (up to the group limit), over every page.</summary>
    public int GroupCount { get; private set; }

    public int PageCount => Math.Max(1, (GroupCount + PageSize - 1) / PageSize);

    /// <summary>Part of a value to find (in any case), or null: the table then holds only the values that contain it.</summary>
    public string? Search { get; private set; }

    public async Task<IActionResult> OnGetAsync(string dimension, string? sort, string? dir, [FromQuery(Name = "page")] int page, string? search,
        CancellationToken ct)
    {
        if (!Titles.ContainsKey(dimension))
        {
            return NotFound();
        }

        Dimension = dimension;
        (Filter, _, _) = UsageFilterReader.Read(Request.Query, clock.GetUtcNow(), defaultGroupBy: dimension);
        Filter = UsageFilterReader.Clamp(Filter, limits.Value.MaxRange);
        var maxGroups = limits.Value.MaxGroups;
        // PostgreSQL text holds no NUL, so no value contains one: dropped rather than refused; a search too long is cut.
        Search = search?.Replace("\0", "", StringComparison.Ordinal).Trim() is { Length: > 0 } s ? s[..Math.Min(s.Length, GroupPage.MaxSearchLength)] : null;
        Rows = await UsageQueries.GroupAsync(data, Membership.WorkspaceId, Filter, dimension, limit: maxGroups + 1, ct, new GroupPage(Search));
        Truncated = Rows.Count > maxGroups;
        Rows = [.. Rows.Take(maxGroups)];
        Sort = sort is not null && Sorts.ContainsKey(sort) ? sort : "cost";
        Descending = dir != "asc";
        Rows = Descending ? [.. Rows.OrderByDescending(Sorts[Sort])] : [.. Rows.OrderBy(Sorts[Sort])];
        // The whole set is sorted, then cut into pages: page 2 of "by errors" continues page 1 of "by errors".
        GroupCount = Rows.Count;
        PageNumber = Math.Clamp(page, 1, PageCount);
        Rows = [.. Rows.Skip((PageNumber - 1) * PageSize).Take(PageSize)];
        return Page();
    }

    public static double TokensPerRequest(UsageRow row) => row.Requests == 0 ? 0 : (double)(row.InputTokens + row.OutputTokens) / row.Requests;

    /// <summary>The link of a column header: sorts by it, flipping the direction when it is already the sort (from page 1).</summary>
    public string SortLink(string column) => DashboardPageModel.FilterQuery(Request.Query,
        [.. Searched(), ("sort", column), ("dir", Sort == column && Descending ? "asc" : "desc")]);

    /// <summary>Another page of the table in the same sort.</summary>
    public string PageNumberLink(int page) => DashboardPageModel.FilterQuery(Request.Query,
        [.. Searched(), ("sort", Sort), ("dir", Descending ? "desc" : "asc"), ("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    /// <summary>The table without the search, in the same sort.</summary>
    public string ClearSearchLink => DashboardPageModel.FilterQuery(Request.Query, ("sort", Sort), ("dir", Descending ? "desc" : "asc"));

    private IEnumerable<(string Name, string Value)> Searched() => Search is null ? [] : [("search", Search)];

    public string SortMark(string column) => Sort != column ? "" : Descending ? " ▾" : " ▴";
}
