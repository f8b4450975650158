using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Retention;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Retention;

/// <summary>
/// The purge killed mid-run, then run again: it finishes what the first run began, and two runs never overlap. On an app
/// and database of their own (they drop partitions).
/// </summary>
public sealed class InterruptedRetentionTests : IAsyncLifetime, IDisposable
{
    private readonly OpsmeterApp app = new();
    private readonly DateTimeOffset noon = new(DateTime.UtcNow.Date.AddHours(12), TimeSpan.Zero);

    public Task InitializeAsync() => app.InitializeAsync();

    public Task DisposeAsync() => app.DisposeAsync();

    public void Dispose() => app.Dispose();

    [Fact]
    public async Task A_detach_interrupted_while_waiting_is_finished_by_the_next_run_and_a_run_meanwhile_skips()
    {
        var ws = await ExpiredEventAsync();
        await using var blocker = new NpgsqlConnection(app.ConnectionString);
        await blocker.OpenAsync();
        await using var reading = await blocker.BeginTransactionAsync();
        // A reader of llm_requests still open: DETACH … CONCURRENTLY marks its partition "detach pending" and waits for it.
        await Execute(blocker, "SELECT count(*) FROM llm_requests WHERE false", reading);

        using var kill = new CancellationTokenSource();
        var first = PurgeAsync(noon, kill.Token);
        await Eventually.UntilAsync(async () => (await PendingAsync()).Count > 0 || first.IsCompleted, TimeSpan.FromSeconds(30),
            "a detach pending, or the first run finished");
        Assert.False(first.IsCompleted);

        var meanwhile = await PurgeAsync(noon, CancellationToken.None);
        Assert.True(meanwhile.Skipped); // the first run holds the lock: the second does nothing

        await kill.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await reading.RollbackAsync();
        var pending = await PendingAsync();
        Assert.Single(pending); // left half-detached

        var again = await PurgeAsync(noon, CancellationToken.None);

        Assert.False(again.Skipped);
        Assert.Contains(pending[0], again.PartitionsDropped);
        Assert.Empty(await PendingAsync());
        Assert.Empty(await OrphansAsync());
        Assert.False(await ExistsAsync($"llm_requests_p{noon.AddDays(-15):yyyyMMdd}"));
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
        Assert.Equal(1.5m, await DayCostAsync(ws, noon.AddDays(-15))); // the daily rollups outlive the raw events
    }

    [Fact]
    public async Task A_run_killed_between_detach_and_drop_leaves_a_table_the_next_run_drops()
    {
        var ws = await ExpiredEventAsync();
        var detached = new List<string>();

        await Assert.ThrowsAsync<InvalidOperationException>(() => PurgeAsync(noon, CancellationToken.None, name =>
        {
            detached.Add(name);
            throw new InvalidOperationException("killed after the detach");
        }));
        Assert.Equal(detached, await OrphansAsync());

        var again = await PurgeAsync(noon, CancellationToken.None);

        Assert.Contains(detached[0], again.PartitionsDropped);
        Assert.Empty(await OrphansAsync());
        Assert.Empty(await PendingAsync());
        Assert.Equal(0, await app.WithDbAsync(db => db.LlmRequests.CountAsync(r => r.WorkspaceId == ws.Id)));
        Assert.Equal(1.5m, await DayCostAsync(ws, noon.AddDays(-15)));
        // The window's days are all there to ingest into, the detached day's name included had it been inside it.
        Assert.True(await ExistsAsync($"llm_requests_p{noon:yyyyMMdd}"));
    }

    /// <summary>An event 15 days old, folded into the rollups, then every workspace keeps 10 days: its day is to be dropped.</summary>
    private async Task<TestWorkspace> ExpiredEventAsync()
    {
        var ws = await app.CreateWorkspaceAsync();
        var sent = await ws.Client.PostAsync("/v1/ingest", Json((TestEvent.Costing(1.5m) with
        {
            ExternalRequestId = "old", InputTokens = 1, OutputTokens = 1, OccurredAt = noon.AddDays(-15),
        }).Json()));
        sent.EnsureSuccessStatusCode();
        await app.FoldAllAsync(ws.Id);
        await app.WithDbAsync(db => db.Workspaces.ExecuteUpdateAsync(s => s.SetProperty(w => w.RawRetentionDays, 10)));
        app.Services.GetRequiredService<RawRetention>().Invalidate();
        return ws;
    }

    private async Task<RetentionReport> PurgeAsync(DateTimeOffset now, CancellationToken ct, Func<string, Task>? afterDetach = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var job = ActivatorUtilities.CreateInstance<RetentionJob>(scope.ServiceProvider, new FakeTimeProvider(now));
        job.AfterDetach = afterDetach;
        return await job.PurgeAsync(ct);
    }

    private static async Task<decimal> DayCostAsync(TestWorkspace ws, DateTimeOffset at)
    {
        var day = new DateTimeOffset(at.UtcDateTime.Date, TimeSpan.Zero);
        var metrics = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/metrics?groupBy=model&from={Iso(day)}&to={Iso(day.AddDays(1))}");
        return metrics.GetProperty("totals").GetProperty("costUsd").GetDecimal();
    }

    private Task<List<string>> PendingAsync() => Names("""
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'llm_requests'::regclass AND i.inhdetachpending ORDER BY 1
        """);

    private Task<List<string>> OrphansAsync() => Names("""
        SELECT c.relname FROM pg_class c
        WHERE c.relkind = 'r' AND c.relname ~ '^llm_requests_p[0-9]{8}$' AND NOT c.relispartition ORDER BY 1
        """);

    private async Task<bool> ExistsAsync(string table) => (await Names($"SELECT relname FROM pg_class WHERE relname = '{table}'")).Count > 0;

    private async Task<List<string>> Names(string sql)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, NpgsqlTransaction transaction)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync();
    }

    private static string Iso(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", CultureInfo.InvariantCulture));
}
