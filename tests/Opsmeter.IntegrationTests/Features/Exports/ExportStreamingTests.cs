using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Exports;

/// <summary>A large export is streamed: the server's live memory stays flat while many times its size goes out.</summary>
[Collection(ProcessLevel.Name)]
public sealed class ExportStreamingTests : IAsyncLifetime, IDisposable
{
    private const int Rows = 300_000;
    private readonly OpsmeterApp app = new();

    public Task InitializeAsync() => app.InitializeAsync();

    public Task DisposeAsync() => app.DisposeAsync();

    public void Dispose() => app.Dispose();

    [Fact]
    public async Task Exporting_300_000_rows_keeps_live_memory_flat()
    {
        var ws = await app.CreateWorkspaceAsync("read");
        var start = DateTimeOffset.UtcNow.AddDays(-2);
        await app.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            SELECT ensure_llm_request_partitions(({start} AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date);
            INSERT INTO llm_requests (workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id,
                input_tokens, output_tokens, total_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, latency_ms, status,
                data_mode, environment, occurred_at, received_at, cost_usd, cost_status, input_cost_usd, cached_input_cost_usd,
                cache_write_cost_usd, output_cost_usd, reasoning_cost_usd)
            SELECT {ws.Id}, gen_random_uuid(), 'bulk-' || i, 'openai', 'gpt-4o', 'endpoint-' || (i % 12), 'v' || (i % 5), 'user-' || (i % 997),
                   'tenant-' || (i % 31), 1000 + i % 500, 100, 1100 + i % 500, 0, 0, 0, 300 + i % 900, 'success', 'real', 'prod',
                   {start} + make_interval(secs => i * 0.5), now(), 0.0035, 'priced', 0.0025, 0, 0, 0.001, 0
            FROM generate_series(1, {Rows}) AS i
            """));

        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var every = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            do
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true)); // live objects only
            }
            while (!sampling.IsCancellationRequested && await every.WaitForNextTickAsync());
        });

        long bytes = 0, lines = 0;
        var watch = Stopwatch.StartNew();
        using (var response = await ws.Client.GetAsync("/v1/exports/requests.csv?range=7d", HttpCompletionOption.ResponseHeadersRead))
        {
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                bytes += read;
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            }
        }

        await sampling.CancelAsync();
        await sampler;

        Assert.Equal(Rows + 1, lines); // header + one line per event
        Assert.True(bytes > 40_000_000, $"{bytes} bytes");
        var growth = peak - baseline;
        Assert.True(growth < 16 * 1024 * 1024, $"live memory grew by {growth / 1048576.0:0.0} MB while {bytes / 1048576.0:0} MB went out in {watch.Elapsed.TotalSeconds:0.0} s");
    }
}
