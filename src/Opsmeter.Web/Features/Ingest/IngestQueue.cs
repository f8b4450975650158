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
/// What waits for <see cref="IngestWriter"/>'s commits: one first-in-first-out line per workspace, served in turns, so that a
/// quiet workspace's request is not queued behind all that a flooding one has sent. Three rules keep a small request from
/// waiting for a flood's commits, which take time in proportion to their events:
/// <list type="bullet">
/// <item>a commit takes one request from each waiting workspace in turn;</item>
/// <item>a request of more than <see cref="MaxSharedRequestEvents"/> events (a batch) is committed only with requests of
/// its own workspace, so no small request rides a large commit of another workspace;</item>
/// <item>one workspace, and all large requests together, are in at most <c>commitsPerWorkspace</c> commits at once: with
/// one loop more than that, a loop is always left for the others' small requests.</item>
/// </list>
/// The queue is bounded by events (<see cref="TakeRoom"/>): a full queue and a workspace past its share are refused
/// before any work is done for their request.
/// </summary>
internal sealed class IngestQueue(int maxEvents, int workspaceShare, int commitsPerWorkspace)
{
    /// <summary>Requests larger than this are committed only with their own workspace's requests.</summary>
    public const int MaxSharedRequestEvents = 100;

    // Guards everything below; loops wait on it (Monitor) for a request they may take.
    private readonly object gate = new();
    // Every workspace holding room (events waiting, or taken for a request still preparing its days) or being committed.
    private readonly Dictionary<Guid, Line> lines = [];
    // The lines with requests waiting, in the order they are served.
    private readonly Queue<Line> turns = new();
    private int events;
    private bool completed;
    // Commits in flight carrying a large request.
    private int largeCommits;
    // The batch being filled (one at a time, under gate): its number (so a line knows whether it is in it, Line.Fill),
    // the one workspace it holds so far (null: empty, or several), and whether it holds a large request.
    private long fills;
    private Guid? fillOnly;
    private bool fillEmpty, fillLarge;

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

            // Wakes one idle loop, and only if an idle loop may take the request (the rules depend on the commits in flight,
            // not on the loop): a loop ending its commit looks again anyway, and waking one for nothing on every request of
            // a busy workspace costs throughput.
            if (line.Commits < commitsPerWorkspace && (!IsLarge(submission) || largeCommits < commitsPerWorkspace))
            {
                Monitor.Pulse(gate);
            }
        }

        return true;
    }

    /// <summary>Refuses what comes from now on and wakes every loop to leave once nothing waits.</summary>
    public void Complete()
    {
        lock (gate)
        {
            completed = true;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>
    /// Blocks until a request this loop may take waits, then fills <paramref name="batch"/> with waiting requests, one per
    /// workspace in turn, until <paramref name="maxEventsPerCommit"/> events are taken or none may be. The loop must call
    /// <see cref="Committed"/> with the batch once its commit is over. False once completed and nothing waits.
    /// </summary>
    public bool TakeBatch(List<IngestSubmission> batch, int maxEventsPerCommit)
    {
        lock (gate)
        {
            IngestSubmission? next;
            while ((next = StartFilling()) is null)
            {
                if (completed && turns.Count == 0)
                {
                    Monitor.PulseAll(gate); // the others leave too
                    return false;
                }

                Monitor.Wait(gate);
            }

            var taken = 0;
            do
            {
                batch.Add(next);
                taken += next.Rows.Count;
            }
            while (taken < maxEventsPerCommit && (next = TakeNext()) is not null);

            return true;
        }
    }

    /// <summary>Says the commit of <paramref name="batch"/> is over, so its workspaces may go into other loops' commits.</summary>
    public void Committed(List<IngestSubmission> batch)
    {
        lock (gate)
        {
            foreach (var workspaceId in batch.Select(s => s.WorkspaceId).Distinct())
            {
                var line = lines[workspaceId];
                line.Commits--;
                Forget(line);
            }

            if (batch.Exists(IsLarge))
            {
                largeCommits--;
            }

            if (turns.Count > 0)
            {
                Monitor.PulseAll(gate); // what waited for this commit to end may go to idle loops, maybe more than one
            }
        }
    }

    private static bool IsLarge(IngestSubmission submission) => submission.Rows.Count > MaxSharedRequestEvents;

    /// <summary>A new batch's first request, if any may be taken.</summary>
    private IngestSubmission? StartFilling()
    {
        fills++; // a new number, also after a wait: other loops filled meanwhile
        fillOnly = null;
        fillEmpty = true;
        fillLarge = false;
        return TakeNext();
    }

    /// <summary>
    /// The next request in turn that the batch being filled may take (its room given back: it is about to be committed), or
    /// null if none. Lines passed over keep their place among themselves. A large request whose turn comes while the batch
    /// holds other workspaces' requests ends the batch, and stays first in turn: the next batch starts with it. Passed
    /// over, it could wait for ever while small requests of many workspaces keep every batch mixed.
    /// </summary>
    private IngestSubmission? TakeNext()
    {
        for (var look = turns.Count; look > 0; look--)
        {
            var line = turns.Peek();
            var inBatch = line.Fill == fills;
            var large = IsLarge(line.Waiting.Peek());
            if (!MayTake(line, inBatch, large))
            {
                if (large && MayTake(line, inBatch, large, alone: true))
                {
                    Monitor.Pulse(gate); // an idle loop may start its batch with it now
                    return null;
                }

                turns.Enqueue(turns.Dequeue());
                continue;
            }

            turns.Dequeue();
            var submission = line.Waiting.Dequeue();
            if (line.Waiting.Count > 0)
            {
                turns.Enqueue(line);
            }

            if (!inBatch)
            {
                line.Commits++;
                line.Fill = fills;
            }

            if (large && !fillLarge)
            {
                largeCommits++;
                fillLarge = true;
            }

            fillOnly = fillEmpty || fillOnly == line.WorkspaceId ? line.WorkspaceId : null;
            fillEmpty = false;
            Release(line, submission.Rows.Count);
            return submission;
        }

        return null;
    }

    /// <summary>
    /// Whether the batch being filled may take the line's next request: a workspace not yet in it only while it is in fewer
    /// than <c>commitsPerWorkspace</c> commits; a large request only into a batch of its own workspace and, if the batch has
    /// no large request yet, while fewer than <c>commitsPerWorkspace</c> large commits are in flight; a small one into any
    /// batch but another workspace's large one. <paramref name="alone"/>: as if the batch held none of the others' requests.
    /// </summary>
    private bool MayTake(Line line, bool inBatch, bool large, bool alone = false)
    {
        if (!inBatch && line.Commits >= commitsPerWorkspace)
        {
            return false;
        }

        var ownOnly = alone || fillEmpty || fillOnly == line.WorkspaceId;
        return large
            ? ownOnly && (fillLarge || largeCommits < commitsPerWorkspace)
            : ownOnly || !fillLarge;
    }

    private void Release(Line line, int count)
    {
        events -= count;
        line.Held -= count;
        Forget(line);
    }

    private void Forget(Line line)
    {
        if (line is { Held: 0, Commits: 0 })
        {
            lines.Remove(line.WorkspaceId);
        }
    }

    private sealed class Line(Guid workspaceId)
    {
        public Guid WorkspaceId { get; } = workspaceId;

        /// <summary>Events of this workspace holding room: waiting, or taken for a request still preparing its days.</summary>
        public int Held { get; set; }

        /// <summary>Commits in flight carrying this workspace's requests.</summary>
        public int Commits { get; set; }

        /// <summary>The filling of a batch that last took this workspace into its commit.</summary>
        public long Fill { get; set; }

        public Queue<IngestSubmission> Waiting { get; } = new();
    }
}
