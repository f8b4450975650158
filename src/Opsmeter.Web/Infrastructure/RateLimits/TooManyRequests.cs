using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;

namespace Opsmeter.Web.Infrastructure.RateLimits;

/// <summary>The 429 answer of the API: <c>Retry-After</c> in whole seconds (at least 1) and problem details.</summary>
internal static class TooManyRequests
{
    public static int RetryAfterSeconds(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? RetryAfterSeconds(retryAfter) : 1;

    public static int RetryAfterSeconds(TimeSpan retryAfter) => (int)Math.Clamp(Math.Ceiling(retryAfter.TotalSeconds), 1, int.MaxValue);

    public static void SetRetryAfter(HttpContext http, int seconds) =>
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

    public static async Task WriteProblemAsync(HttpContext http, int retryAfterSeconds, string title)
    {
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        SetRetryAfter(http, retryAfterSeconds);
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = title,
                Detail = $"Retry after {retryAfterSeconds} s (the Retry-After header); nothing of this request was stored.",
            },
        });
    }
}
