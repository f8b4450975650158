using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Events;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// Group commit for ingest. Each request hands its events to one background loop and awaits the commit
/// of the transaction that carries them, so a 200 still means "committed"; requests that arrive while
/// a commit is in flight share the next one. That is what lets durable ingest scale with concurrency:
/// a commit costs about the same for one event as for thousands (docs/benchmarks.md).
/// Several loops (<see cref="IngestOptions.Writers"/>), each with its own connection, take turns: while one
/// waits for PostgreSQL to commit, the next gathers what arrived meanwhile, so the database and this
/// process work at the same time instead of in turn.
/// The queue is bounded by events: when full, <see cref="SubmitAsync"/> refuses at once (503) instead of
/// growing. Each workspace may hold only its share of it (<see cref="IngestOptions.WorkspaceShare"/>): past that its own
/// requests are refused (429) while the others' are still taken, so one flooding workspace cannot fill the queue for all.
/// The queue drains in arrival order; with no workspace holding more than its share, a request waits behind at most a
/// few commits, so draining needs no per-workspace turns. On shutdown new work is refused and everything already queued
/// is committed first.
/// </summary>
internal sealed class IngestWriter(NpgsqlDataSource dataSource, EventPartitions partitions, IOptions<IngestOptions> options, ILogger<IngestWriter> logger)
    : BackgroundService
{
    private readonly Channel<Submission> queue = Channel.CreateUnbounded<Submission>();
    /// <summary>Ingest's meter, shared by the ways events arrive (OTLP counts its spans here).</summary>
    internal static readonly Meter Meter = new("Opsmeter.Ingest");
    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("opsmeter.ingest.commit.duration", "ms", "Time to write and commit one group of events");
    private static readonly Histogram<int> CommitSize = Meter.CreateHistogram<int>("opsmeter.ingest.commit.events", "{event}", "Events carried by one commit");
    private readonly IngestOptions settings = options.Value;
    private readonly Lock room = new();
    private int queuedEvents; // under room, as is queuedByWorkspace
    private readonly Dictionary<Guid, int> queuedByWorkspace = [];
    private volatile bool stopping;

    /// <summary>
    /// Queues <paramref name="rows"/> (one request's events, so of one workspace) for the next group commit and completes
    /// once they are committed. Room in the queue is taken first, so a full queue (503) or a workspace past its share
    /// (429) is refused at once without any work; then the days' partitions are made sure of on this request's own
    /// connection, so that a failure there refuses this request alone, never the others it would have shared a commit with.
    /// </summary>
    public Task<IngestOutcome[]> SubmitAsync(IReadOnlyList<LlmRequest> rows)
    {
        if (stopping)
        {
            return Task.FromException<IngestOutcome[]>(new IngestUnavailableException("The server is shutting down."));
        }

        if (rows.Count == 0)
        {
            return Task.FromResult<IngestOutcome[]>([]);
        }

        var workspaceId = rows[0].WorkspaceId;
        if (TakeRoom(workspaceId, rows.Count) is { } refusal)
        {
            return Task.FromException<IngestOutcome[]>(refusal);
        }

        return partitions.AllKnown(rows) ? Enqueue(workspaceId, rows) : EnsurePartitionsThenEnqueueAsync(workspaceId, rows);
    }

    /// <summary>
    /// Takes room for <paramref name="events"/> of the workspace, or says why not. A workspace with nothing queued is
    /// always let in while the queue has room, so one request larger than the share is slowed, never refused for ever.
    /// </summary>
    private Exception? TakeRoom(Guid workspaceId, int events)
    {
        lock (room)
        {
            if (queuedEvents + events > settings.MaxQueuedEvents)
            {
                return new IngestUnavailableException("The ingest queue is full.");
            }

            var held = queuedByWorkspace.GetValueOrDefault(workspaceId);
            if (held > 0 && held + events > settings.WorkspaceShare)
            {
                return new IngestShareExceededException(
                    $"This workspace's events waiting for a commit already fill its share of the ingest queue ({settings.WorkspaceShare} events).");
            }

            queuedEvents += events;
            queuedByWorkspace[workspaceId] = held + events;
            return null;
        }
    }

    private void GiveBackRoom(Guid workspaceId, int events)
    {
        lock (room)
        {
            queuedEvents -= events;
            var left = queuedByWorkspace[workspaceId] - events;
            if (left == 0)
            {
                queuedByWorkspace.Remove(workspaceId);
            }
            else
            {
                queuedByWorkspace[workspaceId] = left;
            }
        }
    }

    private async Task<IngestOutcome[]> EnsurePartitionsThenEnqueueAsync(Guid workspaceId, IReadOnlyList<LlmRequest> rows)
    {
        try
        {
            await partitions.EnsureForAsync(dataSource, rows, CancellationToken.None);
        }
        catch (Exception e)
        {
            GiveBackRoom(workspaceId, rows.Count);
            logger.LogError(e, "Could not create the daily partitions for {Events} events; their request is answered 503", rows.Count);
            throw new IngestUnavailableException("The database could not prepare the events' days.", e);
        }

        return await Enqueue(workspaceId, rows);
    }

    /// <summary>Hands rows whose room in the queue is already taken to the commit loops.</summary>
    private Task<IngestOutcome[]> Enqueue(Guid workspaceId, IReadOnlyList<LlmRequest> rows)
    {
        var submission = new Submission(workspaceId, rows);
        if (!queue.Writer.TryWrite(submission))
        {
            GiveBackRoom(workspaceId, rows.Count);
            return Task.FromException<IngestOutcome[]>(new IngestUnavailableException("The server is shutting down."));
        }

        return submission.Completion.Task;
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    // Each loop has a thread of its own and runs until the queue is completed and drained. The stopping
    // token is deliberately not observed: what is queued has been promised a commit or a refusal, never silence.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, settings.Writers).Select(_ =>
            Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

    private void Run()
    {
        using var store = new IngestStore(dataSource);
        var batch = new List<Submission>();
        while (queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            var events = 0;
            while (events < settings.MaxEventsPerCommit && queue.Reader.TryRead(out var submission))
            {
                batch.Add(submission);
                events += submission.Rows.Count;
                GiveBackRoom(submission.WorkspaceId, submission.Rows.Count);
            }

            Commit(store, batch);
            batch.Clear();
        }
    }

    private void Commit(IngestStore store, List<Submission> batch)
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            var rows = batch.SelectMany(s => s.Rows).ToList();
            var outcomes = store.Write(rows);
            CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            CommitSize.Record(rows.Count);
            var offset = 0;
            foreach (var submission in batch)
            {
                submission.Completion.TrySetResult(outcomes[offset..(offset + submission.Rows.Count)]);
                offset += submission.Rows.Count;
            }
        }
        catch (PostgresException e) when (batch.Count > 1 && !e.IsTransient)
        {
            // The server refused the data itself: commit each request alone so that one bad event
            // fails only its own request, never its neighbours.
            logger.LogWarning("A group commit of {Requests} requests was refused ({SqlState}); committing them one by one", batch.Count, e.SqlState);
            foreach (var submission in batch)
            {
                Commit(store, [submission]);
            }
        }
        catch (Exception e)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.CheckViolation, TableName: "llm_requests" })
            {
                // "No partition of relation found for row": a day this process believed existed is gone (the retention job
                // dropped it while a workspace's retention was raised, or an operator did). No DDL here, where a slow lock
                // would stall every request sharing the loop: this request gets 503, and as the days are forgotten, its
                // retry makes the day again on its own connection (SubmitAsync).
                partitions.Forget();
            }

            logger.LogError(e, "Committing {Events} events failed; their requests are answered 503", batch.Sum(s => s.Rows.Count));
            var unavailable = new IngestUnavailableException("The database could not commit the events.", e);
            foreach (var submission in batch)
            {
                submission.Completion.TrySetException(unavailable);
            }
        }
    }

    private sealed class Submission(Guid workspaceId, IReadOnlyList<LlmRequest> rows)
    {
        public Guid WorkspaceId { get; } = workspaceId;

        public IReadOnlyList<LlmRequest> Rows { get; } = rows;

        // Continuations run off the writer loop, so answering requests never delays the next commit.
        public TaskCompletionSource<IngestOutcome[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
