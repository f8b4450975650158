using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>
/// Base of every dashboard page: resolves the current workspace before any handler runs (the area is
/// already sign-in only), so a handler cannot forget to scope its queries.
/// </summary>
internal abstract class DashboardPageModel(CurrentWorkspace current) : PageModel
{
    public Membership Membership { get; private set; } = null!;

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var membership = await current.GetAsync(HttpContext, HttpContext.RequestAborted);
        if (membership is null)
        {
            context.Result = new ContentResult
            {
                StatusCode = StatusCodes.Status403Forbidden,
                Content = "Your account belongs to no workspace yet. Ask a workspace owner to add you.",
            };
            return;
        }

        Membership = membership;
        ViewData["Membership"] = membership;
        await next();
    }
}
