using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.UnitTests.Features.Ingest;

public sealed class IngestWriterTests
{
    private static LlmRequest Row(int n) => new()
    {
        ExternalRequestId = $"r{n}", Provider = "openai", Model = "gpt-4o", EndpointTag = "unknown", PromptVersion = "unknown",
        Status = "success", DataMode = "real", Environment = "prod", CostStatus = "unpriced",
    };

    [Fact]
    public async Task A_full_queue_refuses_at_once_instead_of_growing()
    {
        // Not started: nothing drains the queue, so what is submitted stays queued.
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        using var writer = new IngestWriter(dataSource, new EventPartitions(), Options.Create(new IngestOptions { MaxQueuedEvents = 1000 }), NullLogger<IngestWriter>.Instance);

        var queued = writer.SubmitAsync([.. Enumerable.Range(0, 1000).Select(Row)]);
        var refused = writer.SubmitAsync([Row(1000)]);

        Assert.False(queued.IsCompleted);
        await Assert.ThrowsAsync<IngestUnavailableException>(() => refused);
    }

    [Fact]
    public async Task After_stop_new_work_is_refused()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        using var writer = new IngestWriter(dataSource, new EventPartitions(), Options.Create(new IngestOptions()), NullLogger<IngestWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        await writer.StopAsync(CancellationToken.None);

        await Assert.ThrowsAsync<IngestUnavailableException>(() => writer.SubmitAsync([Row(1)]));
    }
}
