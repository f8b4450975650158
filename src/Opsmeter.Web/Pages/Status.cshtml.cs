using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Opsmeter.Web.Pages;

/// <summary>What a person sees instead of an empty error response on a dashboard page (the API answers problem details).</summary>
[AllowAnonymous]
[Microsoft.AspNetCore.Mvc.IgnoreAntiforgeryToken]
internal sealed class StatusModel : PageModel
{
    public string Title { get; private set; } = "";
    public string Explanation { get; private set; } = "";

    public void OnGet(int code) => Describe(code);

    public void OnPost(int code) => Describe(code);

    private void Describe(int code)
    {
        (Title, Explanation) = code switch
        {
            404 => ("Not found", "There is nothing at this address in your workspace. It may belong to another workspace, or it was deleted."),
            403 => ("Not allowed", "Your role in this workspace does not allow that. Ask an owner or admin."),
            >= 500 => ("Something went wrong", "The server could not answer this time. Try again; if it keeps failing, the server log says why."),
            _ => ($"Error {code}", "The request could not be handled."),
        };
    }
}
