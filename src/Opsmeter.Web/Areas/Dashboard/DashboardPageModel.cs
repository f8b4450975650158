using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Retention;

namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>
/// Base of every dashboard page: resolves the current workspace before any handler runs (the area is
/// already sign-in only), so a handler cannot forget to scope its queries.
/// </summary>
internal abstract class DashboardPageModel(CurrentWorkspace current) : PageModel
{
    /// <summary>The filter parameters that travel with every link, so a URL reproduces a view.</summary>
    public static readonly string[] FilterParameters = ["range", "from", "to", "dataMode", "environment"];

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
        ViewData["FilterQuery"] = FilterQuery(Request.Query);
        // Where raw events begin: a range reaching further back is figured from daily rollups (the filters say so).
        ViewData["RawEventsFrom"] = RetentionRules.RawCutoff(
            HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(), membership.RawRetentionDays);
        await next();
    }

    /// <summary>The events behind one row: the current filters plus this dimension's value.</summary>
    public string EventsLink(string dimension, string value) => "/Dashboard/Events" + FilterQuery(Request.Query, (dimension, value));

    /// <summary>"?range=30d&amp;dataMode=test" from the current request's filter parameters ("" when none).</summary>
    public static string FilterQuery(IQueryCollection query, params (string Name, string Value)[] extra)
    {
        var pairs = FilterParameters.Where(p => query[p].ToString().Length > 0).Select(p => (Name: p, Value: query[p].ToString()))
            .Concat(extra)
            .Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}")
            .ToList();
        return pairs.Count == 0 ? "" : "?" + string.Join("&", pairs);
    }
}
