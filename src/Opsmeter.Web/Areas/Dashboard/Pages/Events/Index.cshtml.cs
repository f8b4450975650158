using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Events;

internal sealed record EventRow(string ExternalRequestId, DateTimeOffset OccurredAt, string Provider, string Model, string EndpointTag,
    string PromptVersion, string? UserId, string? TenantId, string Status, long InputTokens, long OutputTokens, int? LatencyMs,
    decimal CostUsd, string CostStatus);

/// <summary>The events behind any figure: filtered by every dimension, status, cost status, data mode, environment and time; newest first, paged.</summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, TimeProvider clock, IOptions<QueryOptions> limits)
    : DashboardPageModel(current)
{
    public override string Nav => "events";

    public const int PageSize = 50;

    public UsageFilter Filter { get; private set; } = null!;
    public List<EventRow> Rows { get; private set; } = [];
    public int PageNumber { get; private set; } = 1;
    public bool HasNext { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? CostStatus { get; set; }

    public async Task<IActionResult> OnGetAsync([FromQuery(Name = "page")] int page, CancellationToken ct)
    {
        (Filter, _, _) = UsageFilterReader.Read(Request.Query, clock.GetUtcNow(), defaultGroupBy: "day");
        Filter = UsageFilterReader.Clamp(Filter, limits.Value.MaxRange);
        PageNumber = Math.Max(1, page);
        var from = Filter.From.ToUniversalTime();
        var to = Filter.To.ToUniversalTime();
        var query = db.LlmRequests.AsNoTracking()
            .Where(r => r.WorkspaceId == Membership.WorkspaceId && r.OccurredAt >= from && r.OccurredAt < to && r.DataMode == Filter.DataMode);
        if (Filter.Environment is { } environment)
        {
            query = query.Where(r => r.Environment == environment);
        }

        foreach (var (name, value) in Filter.Dimensions ?? new Dictionary<string, string>())
        {
            if (Dimensions.ByName.TryGetValue(name, out var dimension))
            {
                query = query.Where(r => EF.Property<string?>(r, dimension.Property) == value);
            }
        }

        if (Status is { Length: > 0 })
        {
            query = query.Where(r => r.Status == Status);
        }

        if (CostStatus is { Length: > 0 })
        {
            query = query.Where(r => r.CostStatus == CostStatus);
        }

        var rows = await query
            .OrderByDescending(r => r.OccurredAt).ThenByDescending(r => r.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize + 1)
            .Select(r => new EventRow(r.ExternalRequestId, r.OccurredAt, r.Provider, r.Model, r.EndpointTag, r.PromptVersion, r.UserId,
                r.TenantId, r.Status, r.InputTokens, r.OutputTokens, r.LatencyMs, r.CostUsd, r.CostStatus))
            .ToListAsync(ct);
        HasNext = rows.Count > PageSize;
        Rows = [.. rows.Take(PageSize)];
        return Page();
    }

    public string PageNumberLink(int page) => FilterQuery(Request.Query, [.. Request.Query
        .Where(p => p.Key is not ("page" or "range" or "from" or "to" or "dataMode" or "environment"))
        .Select(p => (p.Key, p.Value.ToString())), ("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
}
