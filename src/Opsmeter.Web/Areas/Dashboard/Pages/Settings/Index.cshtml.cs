using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Settings;

/// <summary>Data hygiene: the first-ingest checklist, demo data on a button, deletion of demo and test data (owners and admins).</summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, PriceCatalog catalog, IngestWriter writer, TimeProvider clock)
    : DashboardPageModel(current)
{
    public IngestChecklist Checklist { get; private set; } = null!;

    [TempData]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Nav"] = "settings";
        Checklist = await IngestChecklist.ForAsync(db, Membership.WorkspaceId, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostDemoAsync()
    {
        var created = await DemoData.CreateAsync(Membership.WorkspaceId, catalog, writer, clock);
        Message = $"Added {created.Created} demo events. Switch the data filter to \"demo\" to see them.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string dataMode, CancellationToken ct)
    {
        if (!Membership.CanManage)
        {
            return Forbid();
        }

        if (dataMode is not ("demo" or "test"))
        {
            return BadRequest();
        }

        var deleted = await DemoData.DeleteAsync(db, Membership.WorkspaceId, dataMode, ct);
        Message = $"Deleted {deleted.Deleted} {dataMode} events.";
        return RedirectToPage();
    }
}
