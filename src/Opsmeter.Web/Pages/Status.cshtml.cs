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

    /// <summary>The wait the rate limiter set on this response (Retry-After, seconds), in words.</summary>
    private string RetryAfter() =>
        int.TryParse(Response.Headers.RetryAfter.ToString(), out var seconds) && seconds > 0
            ? seconds < 120 ? $"{seconds} seconds" : $"{(seconds + 59) / 60} minutes"
            : "a minute";

    private void Describe(int code)
    {
        (Title, Explanation) = code switch
        {
            404 => ("Not found", "There is nothing at this address in your workspace. It may belong to another workspace, or it was deleted."),
            403 => ("Not allowed", "Your role in this workspace does not allow that. Ask an owner or admin."),
            429 => ("Too many attempts", $"Too many sign-in or password attempts came from your address. Wait {RetryAfter()} and try again."),
            >= 500 => ("Something went wrong", "The server could not answer this time. Try again; if it keeps failing, the server log says why."),
            _ => ($"Error {code}", "The request could not be handled."),
        };
    }
}
