using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// Group commit for ingest. Each request hands its events to one background loop and awaits the commit
/// of the transaction that carries them, so a 200 still means "committed"; requests that arrive while
/// a commit is in flight share the next one. That is what lets durable ingest scale with concurrency:
/// a commit costs about the same for one event as for thousands (docs/benchmarks.md).
/// The queue is bounded by events: when full, <see cref="SubmitAsync"/> refuses at once (503) instead of
/// growing. On shutdown new work is refused and everything already queued is committed first.
/// </summary>
internal sealed class IngestWriter(IngestStore store, IOptions<IngestOptions> options, ILogger<IngestWriter> logger)
    : BackgroundService
{
    private readonly Channel<Submission> queue = Channel.CreateUnbounded<Submission>(new() { SingleReader = true });
    private readonly IngestOptions settings = options.Value;
    private long queuedEvents;

    public Task<IngestOutcome[]> SubmitAsync(IReadOnlyList<LlmRequest> rows)
    {
        if (Interlocked.Add(ref queuedEvents, rows.Count) > settings.MaxQueuedEvents)
        {
            Interlocked.Add(ref queuedEvents, -rows.Count);
            return Task.FromException<IngestOutcome[]>(new IngestUnavailableException("The ingest queue is full."));
        }

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
        queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    // Runs until the queue is completed and drained; the stopping token is deliberately not observed,
    // because what is queued has been promised a commit or a refusal, never silence.
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Submission>();
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            var events = 0;
            while (events < settings.MaxEventsPerCommit && queue.Reader.TryRead(out var submission))
            {
                batch.Add(submission);
                events += submission.Rows.Count;
            }

            Interlocked.Add(ref queuedEvents, -events);
            await CommitAsync(batch);
            batch.Clear();
        }

        await store.DisposeAsync();
    }

    private async Task CommitAsync(List<Submission> batch)
    {
        try
        {
            var outcomes = await store.WriteAsync(batch.SelectMany(s => s.Rows).ToList());
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
                await CommitAsync([submission]);
            }
        }
        catch (Exception e)
        {
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
