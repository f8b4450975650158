using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.Ingest;

internal sealed class IngestOptions
{
    public const string Section = "Opsmeter:Ingest";
    public const int MaxSingleBodyBytes = 64 * 1024;
    public const int MaxBatchBodyBytes = 5 * 1024 * 1024;
    public const int MaxBatchEvents = 1000;

    /// <summary>
    /// Commit loops, each with its own connection. Two let PostgreSQL commit one batch while the next is gathered; the third
    /// is kept for the other workspaces while one fills two (<see cref="CommitsPerWorkspace"/>).
    /// </summary>
    [Range(1, 16)]
    public int Writers { get; set; } = 3;

    /// <summary>
    /// Commits one workspace's requests may be in at once: all loops but one, so that while a workspace floods, another
    /// workspace's request is committed on its own at once instead of waiting for a flood's commit to end.
    /// </summary>
    public int CommitsPerWorkspace => Math.Max(Writers - 1, 1);

    /// <summary>Most events one commit carries. Larger commits amortise the flush; smaller ones answer sooner.</summary>
    [Range(1, 100_000)]
    public int MaxEventsPerCommit { get; set; } = 5_000;

    /// <summary>Events waiting for a commit before new requests are refused with 503 and Retry-After.</summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedEvents { get; set; } = 50_000;

    /// <summary>
    /// Events one workspace may have waiting for a commit; past it that workspace's requests are refused with 429 and
    /// Retry-After while the others' are still taken. Unset: a quarter of <see cref="MaxQueuedEvents"/>, at least one full batch.
    /// </summary>
    [Range(1, 10_000_000)]
    public int? MaxQueuedEventsPerWorkspace { get; set; }

    /// <summary>The share of the queue one workspace may hold (<see cref="MaxQueuedEventsPerWorkspace"/> or its default).</summary>
    public int WorkspaceShare => MaxQueuedEventsPerWorkspace ?? Math.Max(MaxQueuedEvents / 4, MaxBatchEvents);

    /// <summary>
    /// Bytes of request bodies one workspace may have in ingest at once, from reading through the commit (a request counts
    /// its Content-Length; one larger than this runs alone). Further requests of that workspace wait their turn, first in
    /// first out, without any work done, so a flooding workspace holds a few requests' worth of CPU and queue instead of
    /// one per connection. Default 1 MiB: about two full batches of typical events, which already keeps the commit loops
    /// busy (docs/benchmarks.md "Fairness"), or thousands of single events. While another workspace has sent within the
    /// last 10 s, a workspace works on half of it at once (<see cref="IngestAdmission"/>). 0 turns it off.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxInFlightBytesPerWorkspace { get; set; } = 1024 * 1024;

    /// <summary>
    /// Bytes of request bodies a second one workspace's ingest is admitted at while another workspace has sent within the
    /// last 10 s (a request counts its Content-Length, at least 2 KiB and at most <see cref="MaxInFlightBytesPerWorkspace"/>).
    /// Default 2 MiB: about 6,000 typical events a second in batches, some 500 million a day, which no one app sends, or
    /// 1,024 requests a second, yet it keeps a flood to about a quarter of what two cores ingest, so the other workspaces'
    /// requests stay within 2× of their latency alone (at 4 MiB/s a batch flood still took them to 2–3×: docs/benchmarks.md
    /// "Fairness"). A workspace alone on the node has no such cap. Requests over it wait their turn, up to half a second's
    /// worth; past that, 429 with Retry-After. 0 turns it off; it applies only with <see cref="MaxInFlightBytesPerWorkspace"/> on.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int SharedBytesPerSecondPerWorkspace { get; set; } = 2 * 1024 * 1024;

    /// <summary>Bytes of request bodies one workspace may have waiting for its turn; past it 429 with Retry-After. Unset: 16 × <see cref="MaxInFlightBytesPerWorkspace"/>.</summary>
    [Range(0, int.MaxValue)]
    public int? MaxWaitingBytesPerWorkspace { get; set; }

    /// <summary>The waiting cap in force (<see cref="MaxWaitingBytesPerWorkspace"/> or its default).</summary>
    public int WaitingBytesPerWorkspace => MaxWaitingBytesPerWorkspace ?? (int)Math.Min(16L * MaxInFlightBytesPerWorkspace, int.MaxValue);

    /// <summary>Seconds a client is asked to wait (Retry-After) when ingest cannot take its request (503, or 429 past its workspace's share).</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 2;
}
