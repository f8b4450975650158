using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>Marks a route whose requests pass <see cref="IngestAdmission"/> (<see cref="IngestAdmissionMiddleware.RequireAdmission"/>).</summary>
internal sealed class IngestAdmitted;

/// <summary>
/// Per-workspace admission to ingest (<see cref="IngestOptions.MaxInFlightBytesPerWorkspace"/>): a concurrency limiter per
/// workspace whose permits are bytes of request body, each request taking its Content-Length. It runs after authorization
/// (the workspace is the key's) and before the route reads its body, and holds the permits until the answer, so a flood
/// of large batches on many connections is worked on a few requests at a time while its other requests wait, unread and
/// costing nothing, in arrival order; single events are small, so thousands of them still share each group commit. Past
/// the waiting cap a request is refused at once (429, <see cref="IngestShareExceededException"/>). A workspace can only
/// slow itself: every other workspace has its own permits.
/// </summary>
internal sealed class IngestAdmission : IDisposable
{
    private readonly int inFlight;
    private readonly PartitionedRateLimiter<Guid>? limiter;

    public IngestAdmission(IOptions<IngestOptions> options)
    {
        var settings = options.Value;
        inFlight = settings.MaxInFlightBytesPerWorkspace;
        if (inFlight > 0)
        {
            var waiting = settings.WaitingBytesPerWorkspace;
            limiter = PartitionedRateLimiter.Create<Guid, Guid>(workspaceId => RateLimitPartition.GetConcurrencyLimiter(workspaceId,
                _ => new ConcurrencyLimiterOptions { PermitLimit = inFlight, QueueLimit = waiting, QueueProcessingOrder = QueueProcessingOrder.OldestFirst }));
        }
    }

    public void Dispose() => limiter?.Dispose();

    /// <summary>The workspace's bytes free and requests waiting right now (null when admission is off).</summary>
    internal RateLimiterStatistics? Statistics(Guid workspaceId) => limiter?.GetStatistics(workspaceId);

    /// <summary>Waits for the request's turn, or throws <see cref="IngestShareExceededException"/> past the waiting cap.</summary>
    internal async ValueTask<RateLimitLease?> EnterAsync(HttpContext http)
    {
        if (limiter is null)
        {
            return null;
        }

        // A body of unknown length (chunked) may be as large as the route allows: it counts as the whole budget.
        var weight = (int)Math.Clamp(http.Request.ContentLength ?? inFlight, 1, inFlight);
        var lease = await limiter.AcquireAsync(http.User.WorkspaceId(), weight, http.RequestAborted);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new IngestShareExceededException(
                "This workspace's ingest requests waiting for their turn already fill its share; retry after the Retry-After delay.");
        }

        return lease;
    }
}

/// <summary>The middleware that puts <see cref="IngestAdmission"/> in front of the routes marked <see cref="IngestAdmitted"/>.</summary>
internal static class IngestAdmissionMiddleware
{
    public static TBuilder RequireAdmission<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new IngestAdmitted());

    public static IApplicationBuilder UseIngestAdmission(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<IngestAdmitted>() is null || http.User.Identity?.IsAuthenticated != true)
        {
            await next(http);
            return;
        }

        using var lease = await http.RequestServices.GetRequiredService<IngestAdmission>().EnterAsync(http);
        await next(http);
    });
}
