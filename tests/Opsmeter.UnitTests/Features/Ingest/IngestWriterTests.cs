using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.UnitTests.Features.Ingest;

public sealed class IngestWriterTests
{
    private static readonly DateTimeOffset Day = new(2026, 3, 7, 12, 0, 0, TimeSpan.Zero);

    private static LlmRequest Row(int n, DateTimeOffset? occurredAt = null) => new()
    {
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
