using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Settings;

/// <summary>
/// Workspace settings: the policy kill switch, the first-ingest checklist, demo data on a button, deletion of demo and
/// test data (owners and admins change settings and delete).
/// </summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, PriceCatalog catalog, IngestWriter writer, TimeProvider clock,
    PolicySnapshot policy) : DashboardPageModel(current)
{
    public string PolicyMode { get; private set; } = PolicyModes.Enforce;

    /// <summary>The month the finance pack offers first: the one finance closes (yyyy-MM, UTC).</summary>
    public string LastMonth => clock.GetUtcNow().UtcDateTime.AddMonths(-1).ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    public IngestChecklist Checklist { get; private set; } = null!;

    [TempData]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        ViewData["Nav"] = "settings";
        Checklist = await IngestChecklist.ForAsync(db, Membership.WorkspaceId, ct);
        PolicyMode = await db.Workspaces.Where(w => w.Id == Membership.WorkspaceId).Select(w => w.PolicyMode).SingleAsync(ct);
        return Page();
    }

    /// <summary>The kill switch: in observe mode /v1/policy reports what it would do but always answers allow.</summary>
    public async Task<IActionResult> OnPostPolicyModeAsync(string mode, CancellationToken ct)
    {
        if (!Membership.CanManage)
        {
            return Forbid();
        }

        if (mode is not (PolicyModes.Enforce or PolicyModes.Observe))
        {
            return BadRequest();
        }

        await db.Workspaces.Where(w => w.Id == Membership.WorkspaceId).ExecuteUpdateAsync(s => s.SetProperty(w => w.PolicyMode, mode), ct);
        await policy.ReloadAsync(ct);
        Message = mode == PolicyModes.Observe
            ? "Observe mode: /v1/policy now always answers allow and reports what it would have done."
            : "Enforce mode: /v1/policy answers the budgets' actions again.";
        return RedirectToPage();
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
