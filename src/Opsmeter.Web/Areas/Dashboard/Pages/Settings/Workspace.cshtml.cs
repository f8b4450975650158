using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Settings;

/// <summary>
/// Renaming the current workspace (owners and admins) and deleting it with everything in it (owners, after typing its exact
/// name). After a deletion the person works in another of their workspaces, or sees that they have none.
/// </summary>
[ManagersOnly]
internal sealed class WorkspaceModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, ApiKeyStore keys) : DashboardPageModel(current)
{
    public override string Nav => "settings";

    /// <summary>The new name; shown with the current one until it is saved.</summary>
    [BindProperty]
    public string? Name { get; set; }

    /// <summary>What the person typed to confirm a deletion.</summary>
    [BindProperty]
    public string? Confirmation { get; set; }

    [TempData]
    public string? Message { get; set; }

    public IActionResult OnGet()
    {
        Name = Membership.WorkspaceName;
        return Page();
    }

    public async Task<IActionResult> OnPostRenameAsync(CancellationToken ct)
    {
        if (await ManageWorkspaces.RenameAsync(db, audit, Membership.WorkspaceId, Name, ct) is { } problem)
        {
            ModelState.AddModelError(nameof(Name), problem);
            return Page();
        }

        Message = $"The workspace is named \"{Name!.Trim()}\" now.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        if (Membership.Role != WorkspaceRoles.Owner)
        {
            return Refused($"Only an owner of \"{Membership.WorkspaceName}\" can delete it.");
        }

        // Once confirmed, the deletion runs to its end even if the browser stops waiting (it is one transaction either way).
        if (await DeleteWorkspace.HandleAsync(db, audit, keys, Membership.WorkspaceId, Confirmation, actor: null, CancellationToken.None) is { } problem)
        {
            ModelState.AddModelError(nameof(Confirmation), problem);
            Name = Membership.WorkspaceName;
            return Page();
        }

        Response.Cookies.Delete(CurrentWorkspace.CookieName); // the next page works in another of the person's workspaces, if any
        Message = $"The workspace \"{Membership.WorkspaceName}\" and all its data were deleted.";
        return RedirectToPage("/Workspaces/Index");
    }
}
