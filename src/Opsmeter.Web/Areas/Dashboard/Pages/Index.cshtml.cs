using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages;

/// <summary>The overview: this range's spend and health against the equal range before it, and who caused the spend.</summary>
internal sealed class IndexModel(CurrentWorkspace current, NpgsqlDataSource data, OpsmeterDbContext db, TimeProvider clock, QuotaMeter quota,
    IOptions<QueryOptions> limits)
    : DashboardPageModel(current)
{
    public override string Nav => "overview";

    public override string SummaryGroupBy => "day";

    public static readonly (string Dimension, string Title)[] TopLists = [.. Dimensions.All.Where(d => d.Navigation).Select(d => (d.Name, d.Title))];

    public UsageFilter Filter { get; private set; } = null!;
    public UsageRow Totals { get; private set; } = null!;
    public UsageRow Previous { get; private set; } = null!;
    public List<UsageRow> Daily { get; private set; } = [];
    public Dictionary<string, List<UsageRow>> Top { get; } = [];
    public bool WorkspaceHasEvents { get; private set; }
    public Dictionary<string, string[]> Errors { get; private set; } = [];

    /// <summary>This month's requests against the workspace's quota; null when it has none.</summary>
    public QuotaUsage? Quota { get; private set; }

    /// <summary>From this share of the quota on, the overview warns that it is nearly used up.</summary>
    public const double QuotaNearRatio = 0.8;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        (Filter, _, Errors) = UsageFilterReader.Read(Request.Query, clock.GetUtcNow(), defaultGroupBy: "day");
        Filter = UsageFilterReader.Clamp(Filter, limits.Value.MaxRange);
        var workspaceId = Membership.WorkspaceId;
        // Eight independent queries, each on a connection of its own: run together, the page waits for the slowest
        // instead of the sum (the database has more than one core to give them).
        var length = Filter.To - Filter.From;
        var totals = UsageQueries.TotalsAsync(data, workspaceId, Filter, ct);
        var previous = UsageQueries.TotalsAsync(data, workspaceId, Filter with { From = Filter.From - length, To = Filter.From }, ct);
        // Every day of the longest range (one more where it does not start at midnight), or the 48 hours of two days.
        var daily = UsageQueries.GroupAsync(data, workspaceId, Filter, length <= TimeSpan.FromDays(2) ? "hour" : "day", limits.Value.MaxRangeDays + 1, ct);
        var top = TopLists.Select(t => UsageQueries.TopBySpendAsync(data, workspaceId, Filter, t.Dimension, 5, ct)).ToArray();
        await Task.WhenAll([totals, previous, daily, .. top]);
        (Totals, Previous, Daily) = (totals.Result, previous.Result, daily.Result);
        for (var i = 0; i < TopLists.Length; i++)
        {
            Top[TopLists[i].Dimension] = top[i].Result;
        }

        Quota = await quota.UsageAsync(workspaceId);
        WorkspaceHasEvents = Totals.Requests > 0 || await db.LlmRequests.AnyAsync(r => r.WorkspaceId == workspaceId, ct);
        return Page();
    }
}
