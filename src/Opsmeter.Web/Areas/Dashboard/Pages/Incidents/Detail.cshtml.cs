using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Incidents;

/// <summary>One incident: its figures, what drove the period's spend, and the webhook deliveries that announced it.</summary>
internal sealed class DetailModel(CurrentWorkspace current, OpsmeterDbContext db, NpgsqlDataSource dataSource) : DashboardPageModel(current)
{
    public override string Nav => "incidents";

    public Incident Incident { get; private set; } = null!;
    public Budget? Budget { get; private set; }
    public IReadOnlyList<SpendDriver> Drivers { get; private set; } = [];
    public List<WebhookDelivery> Deliveries { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken ct)
    {
        var incident = await db.Incidents.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id && i.WorkspaceId == Membership.WorkspaceId, ct);
        if (incident is null)
        {
            return NotFound();
        }

        Incident = incident;
        Budget = await db.Budgets.AsNoTracking().SingleOrDefaultAsync(b => b.WorkspaceId == incident.WorkspaceId && b.Id == incident.BudgetId, ct);
        if (Budget is not null)
        {
            Drivers = await BudgetSpend.TopDriversAsync(dataSource, Budget, incident.PeriodStart, incident.PeriodEnd, ct);
        }

        Deliveries = await db.WebhookDeliveries.AsNoTracking().Where(d => d.WorkspaceId == incident.WorkspaceId && d.IncidentId == id).OrderByDescending(d => d.CreatedAt).ToListAsync(ct);
        if (!Membership.CanManage)
        {
            WebhookUrls.MaskErrors(Deliveries,
                await db.WebhookChannels.Where(c => c.WorkspaceId == Membership.WorkspaceId).Select(c => c.Url).ToListAsync(ct));
        }

        return Page();
    }
}
