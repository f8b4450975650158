using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.UnitTests.Features.Ingest;

public sealed class IngestQueueTests
{
    private static readonly Guid Noisy = Guid.NewGuid(), Quiet = Guid.NewGuid();

    private static IngestSubmission Submission(Guid workspaceId, int events) => new(workspaceId, [.. Enumerable.Range(0, events).Select(n => new LlmRequest
    {
        WorkspaceId = workspaceId, ExternalRequestId = $"r{n}", Provider = "openai", Model = "gpt-4o", EndpointTag = "unknown",
        PromptVersion = "unknown", Status = "success", DataMode = "real", Environment = "prod", CostStatus = "unpriced",
    })]);

    private static IngestSubmission Add(IngestQueue queue, Guid workspaceId, int events)
    {
        Assert.Null(queue.TakeRoom(workspaceId, events));
        var submission = Submission(workspaceId, events);
        Assert.True(queue.TryAdd(submission));
        return submission;
    }

    [Fact]
    public void A_quiet_workspace_is_committed_in_the_next_commit_on_its_own_however_much_a_noisy_one_has_queued()
    {
        var queue = new IngestQueue(maxEvents: 100_000, workspaceShare: 100_000, commitsPerWorkspace: 2);
        var flood = Enumerable.Range(0, 20).Select(_ => Add(queue, Noisy, 1000)).ToList();
        var quiet = Add(queue, Quiet, 1);

        List<IngestSubmission> first = [], second = [];
        Assert.True(queue.TakeBatch(first, maxEventsPerCommit: 5000));
        Assert.True(queue.TakeBatch(second, maxEventsPerCommit: 5000));

        // A batch is committed only with its own workspace's requests: the quiet event does not wait for 5,000 others.
        Assert.Equal(flood[..5], first);
        Assert.Equal([quiet], second);
    }

    [Fact]
    public void Small_requests_of_many_workspaces_share_a_commit_and_a_batch_joins_only_its_own()
    {
        var queue = new IngestQueue(maxEvents: 100_000, workspaceShare: 100_000, commitsPerWorkspace: 2);
        var other = Guid.NewGuid();
        var quiet = Add(queue, Quiet, 1);
        var small = Add(queue, Noisy, IngestQueue.MaxSharedRequestEvents);
        var batch = Add(queue, Noisy, IngestQueue.MaxSharedRequestEvents + 1);
        var third = Add(queue, other, 3);

        List<IngestSubmission> first = [], second = [];
        Assert.True(queue.TakeBatch(first, maxEventsPerCommit: 5000));
        Assert.True(queue.TakeBatch(second, maxEventsPerCommit: 5000));

        Assert.Equal([quiet, small, third], first);
        Assert.Equal([batch], second);
    }

    [Fact]
    public void A_batch_whose_turn_comes_in_a_mixed_commit_starts_the_next_one_instead_of_being_passed_over()
    {
        var queue = new IngestQueue(maxEvents: 100_000, workspaceShare: 100_000, commitsPerWorkspace: 1);
        var other = Guid.NewGuid();
        var quiet = Enumerable.Range(0, 3).Select(_ => Add(queue, Quiet, 1)).ToList();
        var batch = Add(queue, Noisy, IngestQueue.MaxSharedRequestEvents + 1);
        var others = Enumerable.Range(0, 3).Select(_ => Add(queue, other, 1)).ToList();

        // Small requests of two workspaces alone would fill every commit in turn (quiet, other, quiet, …) and never
        // start one with the batch between them.
        var taken = new List<List<IngestSubmission>>();
        for (var commit = 0; commit < 3; commit++)
        {
            var next = new List<IngestSubmission>();
            Assert.True(queue.TakeBatch(next, maxEventsPerCommit: 2));
            taken.Add(next);
            queue.Committed(next);
        }

        Assert.Equal([quiet[0]], taken[0]);
        Assert.Equal([batch], taken[1]);
        Assert.Equal([others[0], quiet[1]], taken[2]);
    }

    [Fact]
    public void Batches_of_several_workspaces_together_leave_a_loop_for_small_requests()
    {
        var queue = new IngestQueue(maxEvents: 100_000, workspaceShare: 100_000, commitsPerWorkspace: 2);
        var noisier = Guid.NewGuid();
        var floods = new[] { Noisy, noisier }.Select(workspaceId => Enumerable.Range(0, 3).Select(_ => Add(queue, workspaceId, 1000)).ToList()).ToList();
        var quiet = Add(queue, Quiet, 1);

        List<IngestSubmission> first = [], second = [], third = [];
        Assert.True(queue.TakeBatch(first, maxEventsPerCommit: 1000));
        Assert.True(queue.TakeBatch(second, maxEventsPerCommit: 1000));
        Assert.True(queue.TakeBatch(third, maxEventsPerCommit: 1000));

        Assert.Equal([floods[0][0]], first);
        Assert.Equal([floods[1][0]], second);
        Assert.Equal([quiet], third);
    }

    [Fact]
    public void Turns_go_on_across_commits_and_each_line_stays_in_arrival_order()
    {
        var queue = new IngestQueue(maxEvents: 100, workspaceShare: 100, commitsPerWorkspace: 2);
        var a = Enumerable.Range(0, 3).Select(_ => Add(queue, Noisy, 1)).ToList();
        var b = Enumerable.Range(0, 2).Select(_ => Add(queue, Quiet, 1)).ToList();

        var taken = new List<IngestSubmission>();
        while (taken.Count < 5)
        {
            var batch = new List<IngestSubmission>();
            Assert.True(queue.TakeBatch(batch, maxEventsPerCommit: 2));
            taken.AddRange(batch);
            queue.Committed(batch);
        }

        Assert.Equal([a[0], b[0], a[1], b[1], a[2]], taken);
    }

    [Fact]
    public async Task A_flooding_workspace_fills_all_loops_but_one_which_stays_free_for_the_others()
    {
        var queue = new IngestQueue(maxEvents: 100_000, workspaceShare: 100_000, commitsPerWorkspace: 2);
        var flood = Enumerable.Range(0, 4).Select(_ => Add(queue, Noisy, 1000)).ToList();

        List<IngestSubmission> first = [], second = [];
        Assert.True(queue.TakeBatch(first, maxEventsPerCommit: 1000));
        Assert.True(queue.TakeBatch(second, maxEventsPerCommit: 1000));
        Assert.Equal([flood[0]], first);
        Assert.Equal([flood[1]], second);

        // A third loop finds the flood's two waiting requests out of its reach and waits; a quiet request is taken at once.
        var third = new List<IngestSubmission>();
        var taking = Task.Run(() => queue.TakeBatch(third, maxEventsPerCommit: 1000));
        var quiet = Add(queue, Quiet, 1);
        Assert.True(await taking.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal([quiet], third);

        // Once a flood's commit is over, its next request goes into a commit again.
        queue.Committed(first);
        first.Clear();
        Assert.True(queue.TakeBatch(first, maxEventsPerCommit: 1000));
        Assert.Equal([flood[2]], first);
    }

    [Fact]
    public void A_workspace_already_in_the_commit_being_gathered_adds_more_to_it()
    {
        var queue = new IngestQueue(maxEvents: 100, workspaceShare: 100, commitsPerWorkspace: 1);
        var queued = Enumerable.Range(0, 3).Select(_ => Add(queue, Noisy, 1)).ToList();

        var batch = new List<IngestSubmission>();
        Assert.True(queue.TakeBatch(batch, maxEventsPerCommit: 100));

        Assert.Equal(queued, batch);
    }

    [Fact]
    public async Task Many_clients_and_three_loops_at_once_commit_every_request_exactly_once()
    {
        var queue = new IngestQueue(maxEvents: 10_000_000, workspaceShare: 10_000_000, commitsPerWorkspace: 2);
        Guid[] workspaces = [Noisy, Quiet, Guid.NewGuid()];
        var committed = new System.Collections.Concurrent.ConcurrentBag<IngestSubmission>();
        var inCommits = new System.Collections.Concurrent.ConcurrentDictionary<Guid, int>();
        int mostInCommits = 0, largeCommits = 0, mostLargeCommits = 0;
        var loops = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() =>
        {
            var batch = new List<IngestSubmission>();
            while (queue.TakeBatch(batch, maxEventsPerCommit: 200))
            {
                var inBatch = batch.Select(s => s.WorkspaceId).Distinct().ToList();
                foreach (var workspaceId in inBatch)
                {
                    var now = inCommits.AddOrUpdate(workspaceId, 1, (_, n) => n + 1);
                    InterlockedMax(ref mostInCommits, now);
                }

                var large = batch.Exists(s => s.Rows.Count > IngestQueue.MaxSharedRequestEvents);
                if (large)
                {
                    InterlockedMax(ref mostLargeCommits, Interlocked.Increment(ref largeCommits));
                    Assert.Single(inBatch); // a batch is committed only with its own workspace's requests
                }

                foreach (var submission in batch)
                {
                    committed.Add(submission);
                }

                Thread.SpinWait(Random.Shared.Next(1000));
                foreach (var workspaceId in inBatch)
                {
                    inCommits.AddOrUpdate(workspaceId, 0, (_, n) => n - 1);
                }

                if (large)
                {
                    Interlocked.Decrement(ref largeCommits);
                }

                queue.Committed(batch);
                batch.Clear();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        var clients = Enumerable.Range(0, 8).Select(client => Task.Run(() =>
            Enumerable.Range(0, 2000).Select(n => Add(queue, workspaces[(client + n) % workspaces.Length], n % 10 == 0 ? 150 : 1 + (n % 3))).ToList())).ToArray();
        var sent = (await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60))).SelectMany(s => s).ToList();
        queue.Complete();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.InRange(mostInCommits, 1, 2); // one workspace never in all three loops' commits at once
        Assert.InRange(mostLargeCommits, 1, 2); // nor batches
        Assert.Equal(sent.Count, committed.Count);
        Assert.Equal(sent.ToHashSet(), committed.ToHashSet());
        Assert.Null(queue.TakeRoom(Noisy, 10_000_000)); // all room given back
    }

    private static void InterlockedMax(ref int most, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, value, seen) != seen)
        {
        }
    }

    [Fact]
    public void Taking_a_request_gives_its_room_back()
    {
        var queue = new IngestQueue(maxEvents: 10, workspaceShare: 10, commitsPerWorkspace: 2);
        Add(queue, Noisy, 10);
        Assert.IsType<IngestUnavailableException>(queue.TakeRoom(Quiet, 1));

        Assert.True(queue.TakeBatch([], maxEventsPerCommit: 10));

        Assert.Null(queue.TakeRoom(Quiet, 10));
    }

    [Fact]
    public async Task Completed_it_refuses_new_requests_and_every_loop_leaves_after_the_last_request_is_taken()
    {
        var queue = new IngestQueue(maxEvents: 100, workspaceShare: 100, commitsPerWorkspace: 2);
        var queued = Enumerable.Range(0, 3).Select(_ => Add(queue, Noisy, 1)).ToList();

        queue.Complete();
        Assert.Null(queue.TakeRoom(Quiet, 1));
        Assert.False(queue.TryAdd(Submission(Quiet, 1)));

        var taken = new List<IngestSubmission>();
        Assert.True(queue.TakeBatch(taken, maxEventsPerCommit: 100));
        Assert.Equal(queued, taken);
        var loops = Enumerable.Range(0, 2).Select(_ => Task.Run(() => queue.TakeBatch([], maxEventsPerCommit: 100))).ToArray();
        var left = await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([false, false], left);
        Assert.Null(queue.TakeRoom(Noisy, 100)); // everything refused or taken gave its room back
    }
}
