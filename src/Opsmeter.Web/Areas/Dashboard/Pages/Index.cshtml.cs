using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages;

/// <summary>The overview: this range's spend and health against the equal range before it, and who caused the spend.</summary>
internal sealed class IndexModel(CurrentWorkspace current, NpgsqlDataSource data, OpsmeterDbContext db, TimeProvider clock)
    : DashboardPageModel(current)
{
    public static readonly (string Dimension, string Title)[] TopLists =
        [("endpointTag", "Endpoints"), ("promptVersion", "Prompt versions"), ("model", "Models"), ("userId", "Users"), ("tenantId", "Tenants")];

    public UsageFilter Filter { get; private set; } = null!;
    public UsageRow Totals { get; private set; } = null!;
    public UsageRow Previous { get; private set; } = null!;
    public List<UsageRow> Daily { get; private set; } = [];
    public Dictionary<string, List<UsageRow>> Top { get; } = [];
    public bool WorkspaceHasEvents { get; private set; }
    public Dictionary<string, string[]> Errors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Nav"] = "overview";
        ViewData["SummaryGroupBy"] = "day";
        (Filter, _, Errors) = UsageFilterReader.Read(Request.Query, clock.GetUtcNow(), defaultGroupBy: "day");
        var workspaceId = Membership.WorkspaceId;
        Totals = await UsageQueries.TotalsAsync(data, workspaceId, Filter, ct);
        var length = Filter.To - Filter.From;
        Previous = await UsageQueries.TotalsAsync(data, workspaceId, Filter with { From = Filter.From - length, To = Filter.From }, ct);
        Daily = await UsageQueries.GroupAsync(data, workspaceId, Filter, length <= TimeSpan.FromDays(2) ? "hour" : "day", 200, ct);
        foreach (var (dimension, _) in TopLists)
        {
            Top[dimension] = await UsageQueries.GroupAsync(data, workspaceId, Filter, dimension, 5, ct);
        }

        WorkspaceHasEvents = Totals.Requests > 0 || await db.LlmRequests.AnyAsync(r => r.WorkspaceId == workspaceId, ct);
        return Page();
    }
}
