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
/// growing. On shutdown new work is refused and everything already queued is committed first.
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
    private long queuedEvents;
    private volatile bool stopping;

    /// <summary>
    /// Queues <paramref name="rows"/> for the next group commit and completes once they are committed. Room in the
    /// queue is taken first, so a full queue refuses at once (503) without any work; then the days' partitions are made
    /// sure of on this request's own connection, so that a failure there refuses this request alone, never the others it
    /// would have shared a commit with.
    /// </summary>
    public Task<IngestOutcome[]> SubmitAsync(IReadOnlyList<LlmRequest> rows)
    {
        if (stopping)
        {
            return Task.FromException<IngestOutcome[]>(new IngestUnavailableException("The server is shutting down."));
        }

        if (Interlocked.Add(ref queuedEvents, rows.Count) > settings.MaxQueuedEvents)
        {
            Interlocked.Add(ref queuedEvents, -rows.Count);
            return Task.FromException<IngestOutcome[]>(new IngestUnavailableException("The ingest queue is full."));
        }

        return partitions.AllKnown(rows) ? Enqueue(rows) : EnsurePartitionsThenEnqueueAsync(rows);
    }

    private async Task<IngestOutcome[]> EnsurePartitionsThenEnqueueAsync(IReadOnlyList<LlmRequest> rows)
    {
        try
        {
            await partitions.EnsureForAsync(dataSource, rows, CancellationToken.None);
        }
        catch (Exception e)
        {
            Interlocked.Add(ref queuedEvents, -rows.Count);
            logger.LogError(e, "Could not create the daily partitions for {Events} events; their request is answered 503", rows.Count);
            throw new IngestUnavailableException("The database could not prepare the events' days.", e);
        }

        return await Enqueue(rows);
    }

    /// <summary>Hands rows whose room in the queue is already taken to the commit loops.</summary>
    private Task<IngestOutcome[]> Enqueue(IReadOnlyList<LlmRequest> rows)
    {
        var submission = new Submission(rows);
        if (!queue.Writer.TryWrite(submission))
        {
            Interlocked.Add(ref queuedEvents, -rows.Count);
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
            }

            Interlocked.Add(ref queuedEvents, -events);
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

    private sealed class Submission(IReadOnlyList<LlmRequest> rows)
    {
        public IReadOnlyList<LlmRequest> Rows { get; } = rows;

        // Continuations run off the writer loop, so answering requests never delays the next commit.
        public TaskCompletionSource<IngestOutcome[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
