using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Incidents;

/// <summary>The incidents inbox: open and acknowledged first by default, acknowledge or resolve with a note (any member).</summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, TimeProvider clock) : DashboardPageModel(current)
{
    public override string Nav => "incidents";

    [BindProperty(SupportsGet = true)]
    public string Show { get; set; } = "active";

    public List<Incident> Incidents { get; private set; } = [];

    [TempData]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var query = ManageIncidents.Query(db, Membership.WorkspaceId, state: null);
        Incidents = await (Show == "all" ? query : query.Where(i => i.State != IncidentStates.Resolved)).Take(200).ToListAsync(ct);
        return Page();
    }

    [AllowMembers]
    public Task<IActionResult> OnPostAcknowledgeAsync(Guid id, string? note, CancellationToken ct) => ChangeAsync(id, IncidentStates.Acknowledged, note, ct);

    [AllowMembers]
    public Task<IActionResult> OnPostResolveAsync(Guid id, string? note, CancellationToken ct) => ChangeAsync(id, IncidentStates.Resolved, note, ct);

    private async Task<IActionResult> ChangeAsync(Guid id, string to, string? note, CancellationToken ct)
    {
        var incident = await ManageIncidents.ChangeAsync(db, clock, Membership.WorkspaceId, id, to, User.Identity?.Name ?? "unknown", note, ct);
        if (incident is null)
        {
            return NotFound();
        }

        Message = $"Incident on '{incident.BudgetName}' is {incident.State}.";
        return RedirectToPage(new { Show });
    }
}
