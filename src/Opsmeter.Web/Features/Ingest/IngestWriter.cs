using System.Diagnostics;
using System.Diagnostics.Metrics;
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
/// The queue is served in turns (<see cref="IngestQueue"/>): each commit takes one request of every waiting workspace in
/// turn, a batch is committed only with its own workspace's requests, and one workspace (or all batches together) is in
/// all loops but one at most (<see cref="IngestOptions.CommitsPerWorkspace"/>). So a quiet workspace's request is
/// committed at once on the loop left free, in a small commit, while a flooding one waits behind its own. On shutdown new
/// work is refused and everything already queued is committed first.
/// </summary>
internal sealed class IngestWriter(NpgsqlDataSource dataSource, EventPartitions partitions, IOptions<IngestOptions> options, ILogger<IngestWriter> logger)
    : BackgroundService
{
    /// <summary>Ingest's meter, shared by the ways events arrive (OTLP counts its spans here).</summary>
    internal static readonly Meter Meter = new("Opsmeter.Ingest");
    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("opsmeter.ingest.commit.duration", "ms", "Time to write and commit one group of events");
    private static readonly Histogram<int> CommitSize = Meter.CreateHistogram<int>("opsmeter.ingest.commit.events", "{event}", "Events carried by one commit");
    private readonly IngestOptions settings = options.Value;
    private readonly IngestQueue queue = new(options.Value.MaxQueuedEvents, options.Value.WorkspaceShare, options.Value.CommitsPerWorkspace);
    private volatile bool stopping;
    // Bumped when a commit fails for a reason that breaks connections (the database restarted, the network dropped): every
    // loop then opens a fresh one before its next commit, instead of learning it by failing that commit's requests too.
    private int outages;

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
        if (queue.TakeRoom(workspaceId, rows.Count) is { } refusal)
        {
            return Task.FromException<IngestOutcome[]>(refusal);
        }

        return partitions.AllKnown(rows) ? Enqueue(workspaceId, rows) : EnsurePartitionsThenEnqueueAsync(workspaceId, rows);
    }

    private async Task<IngestOutcome[]> EnsurePartitionsThenEnqueueAsync(Guid workspaceId, IReadOnlyList<LlmRequest> rows)
    {
        try
        {
            await partitions.EnsureForAsync(dataSource, rows, CancellationToken.None);
        }
        catch (Exception e)
        {
            queue.GiveBackRoom(workspaceId, rows.Count);
            logger.LogError(e, "Could not create the daily partitions for {Events} events; their request is answered 503", rows.Count);
            throw new IngestUnavailableException("The database could not prepare the events' days.", e);
        }

        return await Enqueue(workspaceId, rows);
    }

    /// <summary>Hands rows whose room in the queue is already taken to the commit loops.</summary>
    private Task<IngestOutcome[]> Enqueue(Guid workspaceId, IReadOnlyList<LlmRequest> rows)
    {
        var submission = new IngestSubmission(workspaceId, rows);
        if (!queue.TryAdd(submission))
        {
            return Task.FromException<IngestOutcome[]>(new IngestUnavailableException("The server is shutting down."));
        }

        return submission.Completion.Task;
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        queue.Complete();
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
        var batch = new List<IngestSubmission>();
        var outagesSeen = Volatile.Read(ref outages);
        while (queue.TakeBatch(batch, settings.MaxEventsPerCommit))
        {
            try
            {
                if (Volatile.Read(ref outages) is var now && now != outagesSeen)
                {
                    store.Dispose(); // drops the connection; the next write opens one from the cleared pool
                    outagesSeen = now;
                }

                Commit(store, batch);
            }
            catch (Exception e)
            {
                // Commit answers its requests itself; this is what failed around it (the log, the pool). The loop goes on, and
                // whatever the batch's requests did not hear yet is refused, never left waiting.
                logger.LogError(e, "A commit loop failed around a commit; its requests not answered yet get 503");
                Refuse(batch, e);
            }
            finally
            {
                // Always, or the batch's workspaces would stay counted in a commit for ever and never be taken again.
                queue.Committed(batch);
                batch.Clear();
            }
        }
    }

    private void Commit(IngestStore store, List<IngestSubmission> batch)
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
            else if (e is NpgsqlException { IsTransient: true })
            {
                // The other loops' connections (and the pool's idle ones) are likely as broken as this one was.
                dataSource.Clear();
                Interlocked.Increment(ref outages);
            }

            logger.LogError(e, "Committing {Events} events failed; their requests are answered 503", batch.Sum(s => s.Rows.Count));
            Refuse(batch, e);
        }
    }

    /// <summary>Answers the batch's requests not answered yet with 503 (<see cref="IngestUnavailableException"/>).</summary>
    private static void Refuse(List<IngestSubmission> batch, Exception cause)
    {
        var unavailable = new IngestUnavailableException("The database could not commit the events.", cause);
        foreach (var submission in batch)
        {
            submission.Completion.TrySetException(unavailable);
        }
    }
}
