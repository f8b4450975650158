using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.Web.Areas.Dashboard.Pages;

/// <summary>Switches the current workspace (a cookie), only to one the person belongs to.</summary>
internal sealed class WorkspaceModel(CurrentWorkspace current) : DashboardPageModel(current)
{
    [AllowMembers]
    [AnyWorkspace]
    public IActionResult OnPost(Guid id)
    {
        if (Membership.All.Any(w => w.Id == id))
        {
            CurrentWorkspace.Choose(HttpContext, id);
        }

        return RedirectToPage("/Index");
    }

    public IActionResult OnGet() => RedirectToPage("/Index");
}
