using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.UnitTests.Features.Ingest;

public sealed class IngestWriterTests
{
    private static readonly DateTimeOffset Day = new(2026, 3, 7, 12, 0, 0, TimeSpan.Zero);

    private static LlmRequest Row(int n, DateTimeOffset? occurredAt = null, Guid workspaceId = default) => new()
    {
        WorkspaceId = workspaceId,
        ExternalRequestId = $"r{n}", Provider = "openai", Model = "gpt-4o", EndpointTag = "unknown", PromptVersion = "unknown",
        Status = "success", DataMode = "real", Environment = "prod", CostStatus = "unpriced", OccurredAt = occurredAt ?? Day,
    };

    /// <summary>Partitions of <see cref="Day"/> taken as made (there is no database here), so a submission goes straight to the queue.</summary>
    private static EventPartitions KnownDay()
    {
        var partitions = new EventPartitions();
        partitions.Remember([DateOnly.FromDateTime(Day.UtcDateTime)]);
        return partitions;
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_instead_of_growing()
    {
        // Not started: nothing drains the queue, so what is submitted stays queued.
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        using var writer = new IngestWriter(dataSource, KnownDay(), Options.Create(new IngestOptions { MaxQueuedEvents = 1000 }), NullLogger<IngestWriter>.Instance);

        var queued = writer.SubmitAsync([.. Enumerable.Range(0, 1000).Select(n => Row(n))]);
        var refused = writer.SubmitAsync([Row(1000)]);

        Assert.False(queued.IsCompleted);
        await Assert.ThrowsAsync<IngestUnavailableException>(() => refused);
    }

    [Fact]
    public async Task A_workspace_past_its_share_is_refused_while_another_is_still_taken()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        var options = new IngestOptions { MaxQueuedEvents = 1000, MaxQueuedEventsPerWorkspace = 100 };
        using var writer = new IngestWriter(dataSource, KnownDay(), Options.Create(options), NullLogger<IngestWriter>.Instance);
        Guid noisy = Guid.NewGuid(), quiet = Guid.NewGuid();

        var held = writer.SubmitAsync([.. Enumerable.Range(0, 100).Select(n => Row(n, workspaceId: noisy))]);
        var refused = writer.SubmitAsync([Row(100, workspaceId: noisy)]);
        var other = writer.SubmitAsync([.. Enumerable.Range(0, 100).Select(n => Row(n, workspaceId: quiet))]);

        Assert.False(held.IsCompleted);
        await Assert.ThrowsAsync<IngestShareExceededException>(() => refused);
        Assert.False(other.IsCompleted); // queued, not refused
    }

    [Fact]
    public void A_workspace_with_nothing_queued_gets_in_with_a_request_larger_than_its_share()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        var options = new IngestOptions { MaxQueuedEvents = 1000, MaxQueuedEventsPerWorkspace = 10 };
        using var writer = new IngestWriter(dataSource, KnownDay(), Options.Create(options), NullLogger<IngestWriter>.Instance);

        var batch = writer.SubmitAsync([.. Enumerable.Range(0, 500).Select(n => Row(n))]);

        Assert.False(batch.IsCompleted); // queued: a batch bigger than the share is slowed (one at a time), never refused for ever
    }

    [Fact]
    public void Unset_the_share_is_a_quarter_of_the_queue_and_at_least_a_full_batch()
    {
        Assert.Equal(12_500, new IngestOptions().WorkspaceShare);
        Assert.Equal(IngestOptions.MaxBatchEvents, new IngestOptions { MaxQueuedEvents = 2000 }.WorkspaceShare);
        Assert.Equal(7, new IngestOptions { MaxQueuedEventsPerWorkspace = 7 }.WorkspaceShare);
    }

    [Fact]
    public async Task After_stop_new_work_is_refused()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        using var writer = new IngestWriter(dataSource, KnownDay(), Options.Create(new IngestOptions()), NullLogger<IngestWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        await writer.StopAsync(CancellationToken.None);

        await Assert.ThrowsAsync<IngestUnavailableException>(() => writer.SubmitAsync([Row(1)]));
    }

    [Fact]
    public void A_full_queue_refuses_before_any_partition_work()
    {
        // The day is unknown and the database unreachable: a full queue must refuse without trying either.
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        using var writer = new IngestWriter(dataSource, KnownDay(), Options.Create(new IngestOptions { MaxQueuedEvents = 1 }), NullLogger<IngestWriter>.Instance);
        _ = writer.SubmitAsync([Row(0)]);

        var refused = writer.SubmitAsync([Row(1, Day.AddDays(1))]);

        Assert.True(refused.IsFaulted);
        Assert.Equal("The ingest queue is full.", refused.Exception!.InnerException!.Message);
    }

    [Fact]
    public async Task A_day_that_cannot_be_prepared_fails_its_request_with_503_and_frees_its_room()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Timeout=1");
        using var writer = new IngestWriter(dataSource, KnownDay(), Options.Create(new IngestOptions { MaxQueuedEvents = 1 }), NullLogger<IngestWriter>.Instance);

        await Assert.ThrowsAsync<IngestUnavailableException>(() => writer.SubmitAsync([Row(0, Day.AddDays(1))]));

        Assert.False(writer.SubmitAsync([Row(1)]).IsCompleted); // its room in the queue was given back
    }
}
