using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Workspaces;

public sealed class CreateWorkspaceForm
{
    public string? Name { get; set; }
}

/// <summary>
/// The person's workspaces, and creating one (instance administrators, or anyone when <c>Opsmeter:Workspaces:AnyoneCanCreate</c>
/// is set): the creator owns it and works in it from then on. Instance administrators also see every workspace of the
/// instance and grant or revoke the instance administrator role. It opens without a workspace, so that a person who
/// belongs to none can create their first.
/// </summary>
[WorkspaceOptional]
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, TimeProvider clock, IOptions<WorkspaceOptions> options)
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
