using Opsmeter.Web.Features.Events;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>One request's events, of one workspace, waiting for a group commit; completed with their outcomes.</summary>
internal sealed class IngestSubmission(Guid workspaceId, IReadOnlyList<LlmRequest> rows)
{
    public Guid WorkspaceId { get; } = workspaceId;

    public IReadOnlyList<LlmRequest> Rows { get; } = rows;

    // Continuations run off the writer loop, so answering requests never delays the next commit.
    public TaskCompletionSource<IngestOutcome[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// What waits for <see cref="IngestWriter"/>'s commits: one first-in-first-out line per workspace, served in turns. A
/// commit takes one request from each waiting workspace in turn, so a quiet workspace's request goes into the next
/// commit however much a flooding one has queued, instead of waiting behind all of it.
/// The queue is bounded by events (<see cref="TakeRoom"/>): a full queue and a workspace past its share are refused
/// before any work is done for their request.
/// </summary>
internal sealed class IngestQueue(int maxEvents, int workspaceShare) : IDisposable
{
    private readonly Lock gate = new();
    // Under gate: every workspace holding room (events waiting, or taken for a request still preparing its days).
    private readonly Dictionary<Guid, Line> lines = [];
    // Under gate: the lines with requests waiting, in the order they are served.
    private readonly Queue<Line> turns = new();
    // One permit per request waiting, released after it is added; at completion one more per loop, to wake it to leave.
    private readonly SemaphoreSlim waiting = new(0);
    private int events; // under gate
    private bool completed; // under gate

    /// <summary>
    /// Takes room for <paramref name="count"/> events of the workspace, or says why not. A workspace with nothing queued is
    /// always let in while the queue has room, so one request larger than the share is slowed, never refused for ever.
    /// </summary>
    public Exception? TakeRoom(Guid workspaceId, int count)
    {
        lock (gate)
        {
            if (events + count > maxEvents)
            {
                return new IngestUnavailableException("The ingest queue is full.");
            }

            var line = lines.GetValueOrDefault(workspaceId);
            if (line is { Held: > 0 } && line.Held + count > workspaceShare)
            {
                return new IngestShareExceededException(
                    $"This workspace's events waiting for a commit already fill its share of the ingest queue ({workspaceShare} events).");
            }

            if (line is null)
            {
                lines[workspaceId] = line = new Line(workspaceId);
            }

            events += count;
            line.Held += count;
            return null;
        }
    }

    /// <summary>Gives back room taken for a request that will not be queued after all.</summary>
    public void GiveBackRoom(Guid workspaceId, int count)
    {
        lock (gate)
        {
            Release(lines[workspaceId], count);
        }
    }

    /// <summary>Queues a request whose room is taken; false (and its room given back) once the queue is completed.</summary>
    public bool TryAdd(IngestSubmission submission)
    {
        lock (gate)
        {
            var line = lines[submission.WorkspaceId];
            if (completed)
            {
                Release(line, submission.Rows.Count);
                return false;
            }

            line.Waiting.Enqueue(submission);
            if (line.Waiting.Count == 1)
            {
                turns.Enqueue(line);
            }
        }

        waiting.Release();
        return true;
    }

    /// <summary>Refuses what comes from now on and wakes <paramref name="loops"/> takers to leave once the queue is empty.</summary>
    public void Complete(int loops)
    {
        lock (gate)
        {
            if (completed)
            {
                return;
            }

            completed = true;
        }

        waiting.Release(loops);
    }

    /// <summary>
    /// Blocks until a request waits, then fills <paramref name="batch"/> with waiting requests, one per workspace in turn,
    /// until <paramref name="maxEventsPerCommit"/> events are taken or none wait. False once completed and empty.
    /// </summary>
    public bool TakeBatch(List<IngestSubmission> batch, int maxEventsPerCommit)
    {
        waiting.Wait();
        if (TakeNext() is not { } first)
        {
            return false;
        }

        batch.Add(first);
        var taken = first.Rows.Count;
        while (taken < maxEventsPerCommit && waiting.Wait(0))
        {
            if (TakeNext() is not { } next)
            {
                waiting.Release(); // a loop's wake-up at completion: left for the next TakeBatch
                break;
            }

            batch.Add(next);
            taken += next.Rows.Count;
        }

        return true;
    }

    /// <summary>The next request in turn (its room given back: it is about to be committed), or null if none waits.</summary>
    private IngestSubmission? TakeNext()
    {
        lock (gate)
        {
            if (!turns.TryDequeue(out var line))
            {
                return null;
            }

            var submission = line.Waiting.Dequeue();
            if (line.Waiting.Count > 0)
            {
                turns.Enqueue(line);
            }

            Release(line, submission.Rows.Count);
            return submission;
        }
    }

    public void Dispose() => waiting.Dispose();

    private void Release(Line line, int count)
    {
        events -= count;
        line.Held -= count;
        if (line.Held == 0)
        {
            lines.Remove(line.WorkspaceId);
        }
    }

    private sealed class Line(Guid workspaceId)
    {
        public Guid WorkspaceId { get; } = workspaceId;

        public int Held { get; set; }

        public Queue<IngestSubmission> Waiting { get; } = new();
    }
}
