using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Workspaces;

public sealed class CreateWorkspaceForm
{
    public string? Name { get; set; }
}

/// <summary>
/// The person's workspaces, and creating one (instance administrators, or anyone when <c>Opsmeter:Workspaces:AnyoneCanCreate</c>
/// is set): the creator owns it and works in it from then on. Instance administrators also see every workspace of the
/// instance, set each one's monthly request quota, and grant or revoke the instance administrator role. It opens without a
/// workspace, so that a person who belongs to none can create their first.
/// </summary>
[WorkspaceOptional]
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, TimeProvider clock, IOptions<WorkspaceOptions> options,
    QuotaMeter quotaMeter, IOptions<QuotaOptions> quotaOptions)
    : DashboardPageModel(current)
{
    public override string Nav => "workspaces";

    [BindProperty]
    public CreateWorkspaceForm Form { get; set; } = new();

    public List<OwnWorkspaceRow> Own { get; private set; } = [];

    public bool MayCreate { get; private set; }

    public bool IsInstanceAdmin { get; private set; }

    public List<InstanceWorkspaceRow> All { get; private set; } = [];

    public List<InstanceAdminRow> Admins { get; private set; } = [];

    [TempData]
    public string? Message { get; set; }

    /// <summary>The instance default quota, which a workspace without its own has (null: none).</summary>
    public long? DefaultQuota => quotaOptions.Value.DefaultMonthlyRequests;

    /// <summary>The workspace whose quota form was refused, with what was typed, to show beside that row.</summary>
    public (Guid Workspace, string? Typed)? QuotaRefused { get; private set; }

    public Task<IActionResult> OnGetAsync(CancellationToken ct) => ShowAsync(ct);

    [AllowMembers]
    [AnyWorkspace]
    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        if (!await ManageWorkspaces.MayCreateAsync(db, options.Value, User, ct))
        {
            return Refused("Only instance administrators create workspaces on this server.");
        }

        var (created, problem) = await ManageWorkspaces.CreateAsync(db, audit, clock, Form.Name, UserId, actor: null, ct);
        if (created is null)
        {
            ModelState.AddModelError($"{nameof(Form)}.{nameof(Form.Name)}", problem!.Message);
            return await ShowAsync(ct);
        }

        CurrentWorkspace.Choose(HttpContext, created.Workspace.Id);
        return RedirectToPage("/Index");
    }

    [AllowMembers]
    [AnyWorkspace]
    public async Task<IActionResult> OnPostGrantAsync(string? email, CancellationToken ct)
    {
        if (!await InstanceAdmins.IsAsync(db, User, ct))
        {
            return Refused("Only instance administrators grant the role.");
        }

        Message = await ManageInstanceAdmins.GrantAsync(db, audit, email, ct) ?? $"{email?.Trim()} is an instance administrator now.";
        return RedirectToPage();
    }

    [AllowMembers]
    [AnyWorkspace]
    public async Task<IActionResult> OnPostRevokeAsync(Guid userId, CancellationToken ct)
    {
        if (!await InstanceAdmins.IsAsync(db, User, ct))
        {
            return Refused("Only instance administrators revoke the role.");
        }

        Message = await ManageInstanceAdmins.RevokeAsync(db, audit, userId, ct) ?? "The instance administrator role was revoked.";
        return RedirectToPage();
    }

    /// <summary>Sets a workspace's own monthly request quota (empty or "none": the instance default); instance administrators only.</summary>
    [AllowMembers]
    [AnyWorkspace]
    public async Task<IActionResult> OnPostQuotaAsync(Guid id, string? quota, CancellationToken ct)
    {
        if (!await InstanceAdmins.IsAsync(db, User, ct))
        {
            return Refused("Only instance administrators set a workspace's quota.");
        }

        if (!SetWorkspaceQuota.TryParse(quota, out var value))
        {
            QuotaRefused = (id, quota);
            ModelState.AddModelError("quota", SetWorkspaceQuota.Invalid);
            return await ShowAsync(ct);
        }

        if (!await SetWorkspaceQuota.HandleAsync(db, audit, quotaMeter, id, value, actor: null, ct))
        {
            return NotFound();
        }

        Message = value is null
            ? "The workspace has no quota of its own now" + (DefaultQuota is { } d ? $": the instance default of {SetWorkspaceQuota.Describe(d)} requests a month applies." : ".")
            : $"The workspace may store {SetWorkspaceQuota.Describe(value)} requests per UTC month.";
        return RedirectToPage();
    }

    private Guid UserId => Guid.Parse(User.FindFirstValue(ClaimTypes.NameIdentifier)!);

    private async Task<IActionResult> ShowAsync(CancellationToken ct)
    {
        Own = await ListWorkspaces.OfPersonAsync(db, UserId, ct);
        IsInstanceAdmin = await InstanceAdmins.IsAsync(db, User, ct);
        MayCreate = IsInstanceAdmin || options.Value.AnyoneCanCreate;
        if (IsInstanceAdmin)
        {
            All = await ListWorkspaces.AllAsync(db, ct);
            Admins = await ManageInstanceAdmins.ListAsync(db, ct);
        }

        return Page();
    }
}
