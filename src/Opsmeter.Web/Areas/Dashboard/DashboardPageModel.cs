using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opsmeter.Web.Features.Events;
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

    private Membership? resolved;

    /// <summary>The person's workspace and role; every page has one, except a <see cref="WorkspaceOptionalAttribute"/> page opened without.</summary>
    public Membership Membership => resolved ?? throw new InvalidOperationException("This page was opened without a workspace (HasWorkspace is false).");

    public bool HasWorkspace => resolved is not null;

    /// <summary>Which entry of the main navigation this page is ("overview", a dimension's name, "budgets", …).</summary>
    public virtual string Nav => "";

    /// <summary>What the page's "summary.csv" link groups by; the page's dimension, else the endpoint.</summary>
    public virtual string SummaryGroupBy => Dimensions.EndpointTag.Name;

    /// <summary>Where this workspace's raw events begin: a range reaching further back is figured from daily rollups.</summary>
    public DateTimeOffset RawEventsFrom { get; private set; }

    /// <summary>The key under which the current workspace's id waits in <c>HttpContext.Items</c> for <see cref="WorkspaceFormTagHelper"/>.</summary>
    public const string WorkspaceItem = "opsmeter.workspace";

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (IsChange && context.HandlerMethod is null)
        {
            // A post naming no handler of this page (?handler=zzz) would otherwise draw the page without its data.
            context.Result = NotFound();
            return;
        }

        var membership = await current.GetAsync(HttpContext, HttpContext.RequestAborted);
        if (membership is null)
        {
            if (GetType().IsDefined(typeof(WorkspaceOptionalAttribute), inherit: true))
            {
                await next();
                return;
            }

            // The Workspaces page explains it, and offers to create one to those who may.
            context.Result = IsChange
                ? Refused("Your account belongs to no workspace yet. Ask a workspace owner to add you.")
                : RedirectToPage("/Workspaces/Index", new { area = Area });
            return;
        }

        resolved = membership;
        HttpContext.Items[WorkspaceItem] = membership.WorkspaceId;
        if (!membership.CanManage && IsForManagers(context.HandlerMethod?.MethodInfo))
        {
            context.Result = Forbid();
            return;
        }

        if (IsChange && context.HandlerMethod?.MethodInfo.IsDefined(typeof(AnyWorkspaceAttribute), inherit: false) != true
            && await PostedWorkspaceAsync() != membership.WorkspaceId)
        {
            context.Result = new ContentResult
            {
                StatusCode = StatusCodes.Status409Conflict,
                ContentType = "text/plain; charset=utf-8",
                Content = $"Nothing was changed: this form was opened for another workspace than the one you are working in now " +
                    $"(\"{membership.WorkspaceName}\", chosen in another tab or window). Reload the page and try again.",
            };
            return;
        }

        RawEventsFrom = RetentionRules.RawCutoff(HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(), membership.RawRetentionDays);
        await next();
    }

    /// <summary>A 403 that says why, for a refusal that is not about the person's role in this workspace (the denied page says that).</summary>
    protected static ContentResult Refused(string why) =>
        new() { StatusCode = StatusCodes.Status403Forbidden, ContentType = "text/plain; charset=utf-8", Content = why };

    private bool IsChange => !HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method);

    /// <summary>The one rule of who may do what on the dashboard (see <see cref="ManagersOnlyAttribute"/>).</summary>
    private bool IsForManagers(System.Reflection.MethodInfo? handler) =>
        GetType().IsDefined(typeof(ManagersOnlyAttribute), inherit: true)
        || (IsChange && handler?.IsDefined(typeof(AllowMembersAttribute), inherit: false) != true);

    /// <summary>The workspace a posted form was made for (<see cref="WorkspaceFormTagHelper"/>), or null when it names none.</summary>
    private async Task<Guid?> PostedWorkspaceAsync()
    {
        if (!Request.HasFormContentType)
        {
            return null;
        }

        var form = await Request.ReadFormAsync(HttpContext.RequestAborted);
        return Guid.TryParse(form[WorkspaceFormTagHelper.FieldName], out var id) ? id : null;
    }

    /// <summary>The events behind one row: the current filters plus this dimension's value.</summary>
    public string EventsLink(string dimension, string value) => PageLink("/Events/Index", (dimension, value));

    /// <summary>
    /// A link to a dashboard page by its name ("/Events/Index"), carrying the current filters (<see cref="FilterParameters"/>)
    /// and <paramref name="values"/> (route values such as <c>dimension</c>, or more query parameters).
    /// </summary>
    public string PageLink(string page, params (string Name, string Value)[] values)
    {
        var route = new RouteValueDictionary { ["area"] = Area };
        foreach (var name in FilterParameters.Where(name => Request.Query[name].ToString().Length > 0))
        {
            route[name] = Request.Query[name].ToString();
        }

        foreach (var (name, value) in values)
        {
            route[name] = value;
        }

        return Url.Page(page, route) ?? throw new InvalidOperationException($"No dashboard page '{page}'.");
    }

    /// <summary>A download of what the page shows: every parameter of the current request, so the file holds the same events.</summary>
    public string ExportLink(string file, string? groupBy = null)
    {
        var route = new RouteValueDictionary { ["area"] = Area, ["file"] = file };
        foreach (var (name, value) in Request.Query.Where(p => p.Key is not ("file" or "area")))
        {
            route[name] = value.ToString();
        }

        if (groupBy is not null)
        {
            route["groupBy"] = groupBy;
        }

        return Url.Page("/Export", route) ?? throw new InvalidOperationException("No export page.");
    }

    public const string Area = "Dashboard";

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
