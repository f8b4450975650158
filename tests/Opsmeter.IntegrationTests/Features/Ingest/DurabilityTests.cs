using System.Net;
using Npgsql;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Features.Ingest;

/// <summary>An acknowledged event survives anything short of losing the disk; an unacknowledged one can always be retried.</summary>
[Collection(ProcessLevel.Name)]
public sealed class DurabilityTests
{
    [Fact]
    public async Task Kill_9_under_load_loses_no_acknowledged_event_and_retries_complete_the_set()
    {
        var server = await TestDatabase.ServerAsync();

        var result = await DurabilityCheck.RunAsync(Options.Parse(["--seconds", "4", "--connection", server]));

        Assert.True(result.Acknowledged >= DurabilityCheck.MinimumAcknowledged, $"too little load to prove anything: {result}");
        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public async Task A_graceful_stop_under_load_commits_or_refuses_every_request_in_flight()
    {
        var database = await TestDatabase.CreateDatabaseAsync("graceful");
        const string Key = "om_graceful_0123456789abcdefghijklmnop";
        var (app, address) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = database,
            ["Opsmeter__Bootstrap__ApiKey"] = Key,
        });
        await using var _ = app;
        using var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Add("X-API-Key", Key);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        long next = 0;
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var load = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var id = $"g-{Interlocked.Increment(ref next)}";
                try
                {
                    var response = await client.PostAsync("/v1/ingest", HttpExtensions.Json(
                        $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}"""));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledged.Add(id);
                        if (acknowledged.Count >= 300)
                        {
                            enough.TrySetResult();
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    // The server went away: this request was not acknowledged.
                }
            }
        })).ToArray();
        // Stop once the server is busy committing: a few hundred requests acknowledged (bounded, however slow the machine).
        await Task.WhenAny(enough.Task, Task.WhenAll(load), Task.Delay(TimeSpan.FromSeconds(60)));

        await app.StopAsync();
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Equal(0, app.ExitCode);
        Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} acknowledged");
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM llm_requests WHERE external_request_id = ANY(@ids)", connection);
        count.Parameters.AddWithValue("ids", acknowledged.ToArray());
        Assert.Equal(acknowledged.Count, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task When_PostgreSQL_stops_ingest_answers_503_and_recovers_by_itself()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"opsmeter-outage-{Guid.NewGuid():N}");
        using var cluster = LocalPostgres.Start(folder, throwAway: true);
        try
        {
            cluster.EnsureDatabase("opsmeter");
            const string Key = "om_outage_0123456789abcdefghijklmnopq";
            var (app, address) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
            {
                ["ConnectionStrings__Opsmeter"] = cluster.ConnectionString("opsmeter") + ";Timeout=2",
                ["Opsmeter__Bootstrap__ApiKey"] = Key,
            });
            await using var _ = app;
            using var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Add("X-API-Key", Key);
            Task<HttpResponseMessage> Ingest(string id) => client.PostAsync("/v1/ingest", HttpExtensions.Json(
                $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}"""));
            Assert.Equal(HttpStatusCode.OK, (await Ingest("before")).StatusCode);

            cluster.Stop();
            var during = await Ingest("during");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
            Assert.True(during.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");

            using var restarted = LocalPostgres.Start(folder, cluster.Port, throwAway: true);
            var recovered = await Ingest("during");
            Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            cluster.Stop();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task When_PostgreSQL_stops_under_load_ingest_answers_503_readiness_fails_nothing_acknowledged_is_lost_and_it_recovers_within_10_s()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"opsmeter-outage-{Guid.NewGuid():N}");
        using var cluster = LocalPostgres.Start(folder, throwAway: true);
        try
        {
            cluster.EnsureDatabase("opsmeter");
            const string Key = "om_outage_load_0123456789abcdefghijkl";
            var (app, address) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
            {
                ["ConnectionStrings__Opsmeter"] = cluster.ConnectionString("opsmeter") + ";Timeout=2",
                ["Opsmeter__Bootstrap__ApiKey"] = Key,
            });
            await using var _ = app;
            using var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Add("X-API-Key", Key);
            var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
            var refusals = new System.Collections.Concurrent.ConcurrentBag<HttpResponseMessage>();
            var unexpected = new System.Collections.Concurrent.ConcurrentBag<string>();
            long next = 0;
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var id = $"o-{Interlocked.Increment(ref next)}";
                    var response = await client.PostAsync("/v1/ingest", HttpExtensions.Json(
                        $$"""{"externalRequestId":"{{id}}","provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}"""));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledged.Add(id);
                    }
                    else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        refusals.Add(response);
                    }
                    else
                    {
                        unexpected.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
            })).ToArray();
            Task Until(Func<Task<bool>> condition, TimeSpan deadline, string what) => Eventually.UntilAsync(async () =>
            {
                Assert.DoesNotContain(load, t => t.IsFaulted);
                return await condition();
            }, deadline, what);

            async Task<bool> Ready() => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK;
            await Until(() => Task.FromResult(acknowledged.Count >= 200), TimeSpan.FromSeconds(60), "200 events acknowledged before the outage");

            cluster.Stop();
            await Until(() => Task.FromResult(!refusals.IsEmpty), TimeSpan.FromSeconds(30), "ingest answering 503 during the outage");
            await Until(async () => !await Ready(), TimeSpan.FromSeconds(30), "readiness failing during the outage");
            var acknowledgedDuringOutage = acknowledged.Count;

            using var restarted = LocalPostgres.Start(folder, cluster.Port, throwAway: true);
            var restartedAt = System.Diagnostics.Stopwatch.StartNew();
            await Until(() => Task.FromResult(acknowledged.Count > acknowledgedDuringOutage), TimeSpan.FromSeconds(10), "ingest answering 200 again after the restart");
            await Until(Ready, TimeSpan.FromSeconds(10) - restartedAt.Elapsed, "readiness healthy again after the restart");
            await stop.CancelAsync();
            await Task.WhenAll(load);

            Assert.Empty(unexpected);
            Assert.All(refusals, r => Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After"));
            await using var connection = new NpgsqlConnection(restarted.ConnectionString("opsmeter"));
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM llm_requests WHERE external_request_id = ANY(@ids)", connection);
            count.Parameters.AddWithValue("ids", acknowledged.ToArray());
            Assert.Equal(acknowledged.Count, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            cluster.Stop();
            Directory.Delete(folder, recursive: true);
        }
    }
}
