using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Policy;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Settings;

/// <summary>
/// Workspace settings: the policy kill switch, retention, the finance pack, the first-ingest checklist, demo data on a button, deletion of demo and
/// test data (owners and admins change settings and delete).
/// </summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, PriceCatalog catalog, IngestWriter writer,
    TimeProvider clock, PolicySnapshot policy, RawRetention rawRetention, QuotaMeter quota, IValidator<RetentionForm> retentionValidator) : DashboardPageModel(current)
{
    public override string Nav => "settings";

    [BindProperty]
    public RetentionForm Retention { get; set; } = new();

    public string PolicyMode { get; private set; } = PolicyModes.Enforce;

    /// <summary>The month the finance pack offers first: the one finance closes (yyyy-MM, UTC).</summary>
    public string LastMonth => clock.GetUtcNow().UtcDateTime.AddMonths(-1).ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    public IngestChecklist Checklist { get; private set; } = null!;

    [TempData]
    public string? Message { get; set; }

    public Task<IActionResult> OnGetAsync(CancellationToken ct) => ShowAsync(ct);

    private async Task<IActionResult> ShowAsync(CancellationToken ct, bool keepRetentionForm = false)
    {
        Checklist = await IngestChecklist.ForAsync(db, Membership.WorkspaceId, ct);
        var workspace = await db.Workspaces.AsNoTracking().SingleAsync(w => w.Id == Membership.WorkspaceId, ct);
        PolicyMode = workspace.PolicyMode;
        if (!keepRetentionForm)
        {
            Retention = new RetentionForm { RawRetentionDays = workspace.RawRetentionDays, RollupRetentionDays = workspace.RollupRetentionDays };
        }

        return Page();
    }

    /// <summary>How long raw events and daily rollups are kept; the nightly retention job applies it.</summary>
    public async Task<IActionResult> OnPostRetentionAsync(CancellationToken ct)
    {
        var validation = await retentionValidator.ValidateAsync(Retention, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Retention));
            return await ShowAsync(ct, keepRetentionForm: true);
        }

        await ChangeRetention.SaveAsync(db, audit, rawRetention, Membership.WorkspaceId, Retention, ct);
        Message = $"Raw events are kept {Retention.RawRetentionDays} days and daily rollups {Retention.RollupRetentionDays} days, from the next nightly purge on; ingest refuses older events from now on.";
        return RedirectToPage();
    }

    /// <summary>The kill switch: in observe mode /v1/policy reports what it would do but always answers allow.</summary>
    public async Task<IActionResult> OnPostPolicyModeAsync(string mode, CancellationToken ct)
    {
        if (!await SetPolicyMode.HandleAsync(db, audit, policy, Membership.WorkspaceId, mode, ct))
        {
            return BadRequest();
        }

        Message = mode == PolicyModes.Observe
            ? "Observe mode: /v1/policy now always answers allow and reports what it would have done."
            : "Enforce mode: /v1/policy answers the budgets' actions again.";
        return RedirectToPage();
    }

    [AllowMembers]
    public async Task<IActionResult> OnPostDemoAsync()
    {
        var created = await DemoData.CreateAsync(Membership.WorkspaceId, catalog, writer, rawRetention, quota, clock);
        Message = created is null
            ? "No demo events were added: the workspace's monthly request quota is used up (see the overview)."
            : $"Added {created.Created} demo events. Switch the data filter to \"demo\" to see them.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string dataMode, CancellationToken ct)
    {
        if (dataMode is not ("demo" or "test"))
        {
            return BadRequest();
        }

        var deleted = await DemoData.DeleteAsync(db, audit, Membership.WorkspaceId, dataMode, ct);
        Message = $"Deleted {deleted.Deleted} {dataMode} events.";
        return RedirectToPage();
    }
}
