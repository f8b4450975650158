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
    public void A_quiet_workspace_rides_the_next_commit_however_much_a_noisy_one_has_queued()
    {
        using var queue = new IngestQueue(maxEvents: 100_000, workspaceShare: 100_000);
        var flood = Enumerable.Range(0, 20).Select(_ => Add(queue, Noisy, 1000)).ToList();
        var quiet = Add(queue, Quiet, 1);

        var first = new List<IngestSubmission>();
        Assert.True(queue.TakeBatch(first, maxEventsPerCommit: 5000));

        Assert.Equal([flood[0], quiet, flood[1], flood[2], flood[3], flood[4]], first);
    }

    [Fact]
    public void Turns_go_on_across_commits_and_each_line_stays_in_arrival_order()
    {
        using var queue = new IngestQueue(maxEvents: 100, workspaceShare: 100);
        var a = Enumerable.Range(0, 3).Select(_ => Add(queue, Noisy, 1)).ToList();
        var b = Enumerable.Range(0, 2).Select(_ => Add(queue, Quiet, 1)).ToList();

        var taken = new List<IngestSubmission>();
        while (taken.Count < 5)
        {
            var batch = new List<IngestSubmission>();
            Assert.True(queue.TakeBatch(batch, maxEventsPerCommit: 2));
            taken.AddRange(batch);
        }

        Assert.Equal([a[0], b[0], a[1], b[1], a[2]], taken);
    }

    [Fact]
    public void Taking_a_request_gives_its_room_back()
    {
        using var queue = new IngestQueue(maxEvents: 10, workspaceShare: 10);
        Add(queue, Noisy, 10);
        Assert.IsType<IngestUnavailableException>(queue.TakeRoom(Quiet, 1));

        Assert.True(queue.TakeBatch([], maxEventsPerCommit: 10));

        Assert.Null(queue.TakeRoom(Quiet, 10));
    }

    [Fact]
    public async Task Completed_it_refuses_new_requests_and_every_loop_leaves_after_the_last_request_is_taken()
    {
        using var queue = new IngestQueue(maxEvents: 100, workspaceShare: 100);
        var queued = Enumerable.Range(0, 3).Select(_ => Add(queue, Noisy, 1)).ToList();

        queue.Complete(loops: 2);
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
