using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.Web.Infrastructure.Http;

/// <summary>
/// Headers every response carries, so a browser refuses the usual tricks (sniffed content types, framing, leaked
/// URLs with tokens in them), and a strict Content-Security-Policy: the pages load script and style only from this
/// site, so none of them may use inline script, inline event handlers or style attributes (wwwroot/js/site.js does
/// their work). Swagger UI and the Hangfire dashboard are third-party pages built on inline script: they get no policy.
/// </summary>
internal static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; " +
        "form-action 'self'; base-uri 'none'; object-src 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        // At OnStarting, not now: the error pages clear the headers of a response they take over.
        http.Response.OnStarting(() =>
        {
            Add(http);
            return Task.CompletedTask;
        });
        return next(http);
    });

    private static void Add(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        // Invitation and setup links carry tokens: never tell another site which page linked to it.
        headers["Referrer-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";
        if (!HasInlineScript(http.Request.Path))
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
        }
    }

    private static bool HasInlineScript(PathString path) =>
        path.StartsWithSegments("/swagger") || path.StartsWithSegments(JobsSetup.DashboardPath);
}
