using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>
/// Every form that posts from a dashboard page carries the id of the workspace the page showed, as antiforgery tokens are
/// added: <see cref="DashboardPageModel"/> refuses a post whose workspace is not the one the session acts on now (a tab
/// left open on workspace A, posted after switching to B in another tab).
/// </summary>
[HtmlTargetElement("form", Attributes = "method")]
public sealed class WorkspaceFormTagHelper : TagHelper
{
    public const string FieldName = "workspaceId";

    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = null!;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        if (string.Equals(context.AllAttributes["method"].Value?.ToString(), "post", StringComparison.OrdinalIgnoreCase)
            && ViewContext.HttpContext.Items[DashboardPageModel.WorkspaceItem] is Guid workspaceId)
        {
            output.PostContent.AppendHtml($"<input type=\"hidden\" name=\"{FieldName}\" value=\"{workspaceId}\" />");
        }
    }
}
