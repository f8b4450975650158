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
/// <para>
/// A workspace alone on the node may use its whole budget. While another workspace has sent within
/// <see cref="SharingWindow"/>, an admitted request also takes its turn in a second budget of half the size, so a
/// flooding workspace works on half as many bytes at once and leaves the rest of the node's CPU to the others
/// (docs/benchmarks.md "Fairness"); the requests waiting for that turn already hold their place in the first budget, so
/// the waiting cap counts them as before. While sharing, its request bodies are also admitted at no more than
/// <see cref="IngestOptions.SharedBytesPerSecondPerWorkspace"/> (a token bucket of bytes): with one batch in flight at a
/// time a batch flood still took nearly all of two cores, and what the others wait for follows the flood's rate. Each
/// request counts at least <see cref="MinimumCharge"/>, so a flood of single events, from any number of keys, is held
/// too. The requests waiting for tokens hold their place in the first budget as well.
/// </para>
/// </summary>
internal sealed class IngestAdmission : IDisposable
{
    /// <summary>How long after another workspace's last ingest request a workspace still counts as sharing the node.</summary>
    internal static readonly TimeSpan SharingWindow = TimeSpan.FromSeconds(10);

    private readonly int inFlight;
    private readonly PartitionedRateLimiter<Guid>? limiter, sharing, sharedRate;
    private readonly TimeProvider time;
    private readonly Lock recentLock = new();

    // The two workspaces seen most recently, different from each other (latest first): whichever workspace asks, the
    // most recent other one is among them.
    private (Guid WorkspaceId, long At) latest, previous;

    public IngestAdmission(IOptions<IngestOptions> options, TimeProvider time)
    {
        this.time = time;
        var settings = options.Value;
        inFlight = settings.MaxInFlightBytesPerWorkspace;
        if (inFlight > 0)
        {
            var waiting = settings.WaitingBytesPerWorkspace;
            limiter = PartitionedRateLimiter.Create<Guid, Guid>(workspaceId => RateLimitPartition.GetConcurrencyLimiter(workspaceId,
                _ => new ConcurrencyLimiterOptions { PermitLimit = inFlight, QueueLimit = waiting, QueueProcessingOrder = QueueProcessingOrder.OldestFirst }));
            // Only requests holding the first budget's permits wait here, so its queue never fills.
            sharing = PartitionedRateLimiter.Create<Guid, Guid>(workspaceId => RateLimitPartition.GetConcurrencyLimiter(workspaceId,
                _ => new ConcurrencyLimiterOptions { PermitLimit = SharedBudget, QueueLimit = inFlight, QueueProcessingOrder = QueueProcessingOrder.OldestFirst }));
            if (settings.SharedBytesPerSecondPerWorkspace > 0)
            {
                sharedRate = PartitionedRateLimiter.Create<Guid, Guid>(workspaceId => RateLimitPartition.GetTokenBucketLimiter(workspaceId,
                    _ => SharedRate(settings.SharedBytesPerSecondPerWorkspace, inFlight)));
            }
        }
    }

    /// <summary>
    /// The bytes-a-second share as a token bucket refilled about every 100 ms, holding up to one full budget (so a request of
    /// any admitted size can pass). Up to one budget's worth of charges waits for tokens (half a second at the
    /// default rate); past it the request is refused (429): small requests fill that before they fill the first budget.
    /// </summary>
    private static TokenBucketRateLimiterOptions SharedRate(int bytesPerSecond, int inFlight)
    {
        var tokens = (int)Math.Max(1, bytesPerSecond / 10L);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(inFlight, tokens),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)tokens / bytesPerSecond),
            QueueLimit = inFlight,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        };
    }

    /// <summary>
    /// The least a request counts against <see cref="IngestOptions.SharedBytesPerSecondPerWorkspace"/>: at the default 2 MiB/s, a
    /// sharing workspace's single events (about 400 bytes each) are admitted at up to 1,024 requests a second, the per-key
    /// limit's rate, however many keys send them. Measured: a single-event flood from one workspace at 4,800–5,600 requests/s
    /// took a quiet workspace's p99 to 2–3× its p99 alone; held to ~1,030/s, 1.1–1.4× (docs/benchmarks.md "Fairness").
    /// </summary>
    internal const int MinimumCharge = 2 * 1024;

    private const int UnknownLengthCharge = 64 * 1024;

    private const string ShareFull = "This workspace's ingest requests waiting for their turn already fill its share; retry after the Retry-After delay.";

    private int SharedBudget => Math.Max(inFlight / 2, 1);

    public void Dispose()
    {
        limiter?.Dispose();
        sharing?.Dispose();
        sharedRate?.Dispose();
    }

    /// <summary>The workspace's bytes free and requests waiting right now (null when admission is off).</summary>
    internal RateLimiterStatistics? Statistics(Guid workspaceId) => limiter?.GetStatistics(workspaceId);

    /// <summary>The workspace's bytes-a-second share: tokens free and bytes waiting (null when off).</summary>
    internal RateLimiterStatistics? SharedRateStatistics(Guid workspaceId) => sharedRate?.GetStatistics(workspaceId);

    /// <summary>Waits for the request's turn, or throws <see cref="IngestShareExceededException"/> past the waiting cap.</summary>
    internal async ValueTask<RateLimitLease?> EnterAsync(HttpContext http)
    {
        if (limiter is null || sharing is null)
        {
            return null;
        }

        var workspaceId = http.User.WorkspaceId();
        // A body of unknown length (chunked) may be as large as the route allows: it counts as the whole budget.
        var length = http.Request.ContentLength ?? inFlight;
        var lease = await limiter.AcquireAsync(workspaceId, (int)Math.Clamp(length, 1, inFlight), http.RequestAborted);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new IngestShareExceededException(ShareFull);
        }

        if (!Sharing(workspaceId))
        {
            return lease;
        }

        try
        {
            if (sharedRate is not null)
            {
                // A request counts at least MinimumCharge: its fixed cost (headers, key, a commit turn) is worth a few KiB of body,
                // so many small requests are held like a few large ones. A body of unknown length counts 64 KiB rather than a
                // whole budget, which would hold a chunked client to a few requests a second; a chunked flood is still worked on
                // one request at a time by the budgets above.
                var charge = Math.Min(Math.Max(http.Request.ContentLength ?? UnknownLengthCharge, MinimumCharge), inFlight);
                // Tokens are spent, not held: the lease is given back at once.
                using var rate = await sharedRate.AcquireAsync(workspaceId, (int)charge, http.RequestAborted);
                if (!rate.IsAcquired)
                {
                    throw new IngestShareExceededException(ShareFull);
                }
            }

            return new BothLeases(lease, await sharing.AcquireAsync(workspaceId, (int)Math.Clamp(length, 1, SharedBudget), http.RequestAborted));
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>Notes the workspace's request and tells whether another workspace has sent within <see cref="SharingWindow"/>.</summary>
    private bool Sharing(Guid workspaceId)
    {
        var now = time.GetTimestamp();
        lock (recentLock)
        {
            if (latest.WorkspaceId != workspaceId)
            {
                previous = latest;
            }

            latest = (workspaceId, now);
            return previous.WorkspaceId != Guid.Empty && time.GetElapsedTime(previous.At, now) < SharingWindow;
        }
    }

    /// <summary>A request's permits in both budgets, given back together.</summary>
    private sealed class BothLeases(RateLimitLease own, RateLimitLease shared) : RateLimitLease
    {
        public override bool IsAcquired => own.IsAcquired && shared.IsAcquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                shared.Dispose();
                own.Dispose();
            }

            base.Dispose(disposing);
        }
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
