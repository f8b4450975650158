using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Compare;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Compare;

/// <summary>"Investigate spike": what changed between the chosen range and the one before (or a chosen baseline), and prompt A against B.</summary>
internal sealed class IndexModel(CurrentWorkspace current, NpgsqlDataSource db, TimeProvider clock, IOptions<QueryOptions> limits)
    : DashboardPageModel(current)
{
    public override string Nav => "compare";

    public override string SummaryGroupBy => GroupBys.Contains(GroupBy) ? GroupBy : base.SummaryGroupBy;

    public static readonly string[] GroupBys = [.. Dimensions.Names];

    public UsageFilter Filter { get; private set; } = null!;
    public CompareResponse? Result { get; private set; }
    public PromptVersionComparison? Prompts { get; private set; }
    public Dictionary<string, string[]> Errors { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public string GroupBy { get; set; } = "endpointTag";

    [BindProperty(SupportsGet = true)]
    public string? EndpointTag { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? A { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? B { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        (Filter, _, Errors) = UsageFilterReader.Read(Request.Query, clock.GetUtcNow(), defaultGroupBy: "endpointTag");
        Filter = UsageFilterReader.Clamp(Filter, limits.Value.MaxRange);
        var (baseline, baselineErrors) = CompareUsage.ReadBaseline(Request.Query, Filter);
        // A chosen baseline is a form field of this page: too long, it is refused with the maximum rather than shortened.
        UsageFilterReader.Bound(baseline, limits.Value.MaxRange, baselineErrors, field: "baselineFrom");
        foreach (var (key, value) in baselineErrors)
        {
            Errors[key] = value;
        }

        if (!GroupBys.Contains(GroupBy))
        {
            Errors["groupBy"] = [$"Compare by one of: {string.Join(", ", GroupBys)}."];
        }

        if (Errors.Count > 0)
        {
            return Page();
        }

        // The page's own choices (groupBy, the A/B fields) are not filters on the events.
        var filter = Filter with { Dimensions = Filter.Dimensions?.Where(d => d.Key != GroupBy).ToDictionary() };
        Result = await CompareUsage.CompareAsync(db, Membership.WorkspaceId, filter, baseline, GroupBy, limits.Value.MaxGroups, ct);
        if (EndpointTag is { Length: > 0 } endpoint && A is { Length: > 0 } a && B is { Length: > 0 } b)
        {
            Prompts = await ComparePromptVersions.CompareAsync(db, Membership.WorkspaceId,
                Filter with { Dimensions = null }, endpoint, a, b, ct);
        }

        return Page();
    }
}
