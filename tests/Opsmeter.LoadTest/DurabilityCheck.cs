using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Npgsql;

namespace Opsmeter.LoadTest;

internal sealed record DurabilityResult(int Acknowledged, int Unacknowledged, int MissingAfterCrash, int DuplicatedRows, int StoredAfterRetry, int Expected)
{
    public bool Passed => MissingAfterCrash == 0 && DuplicatedRows == 0 && StoredAfterRetry == Expected;

    public override string ToString() =>
        $"{Acknowledged} acknowledged before kill -9, {Unacknowledged} not; {MissingAfterCrash} acknowledged events missing after restart, " +
        $"{DuplicatedRows} stored twice; after retrying, {StoredAfterRetry} of {Expected} stored: {(Passed ? "PASSED" : "FAILED")}";
}

/// <summary>
/// Kill -9 under load: drive single-event ingest, kill the server mid-load, restart it, and prove that every
/// acknowledged externalRequestId is stored exactly once and that retrying the others completes the set.
/// </summary>
internal static class DurabilityCheck
{
    private const string ApiKey = "om_durability_0123456789abcdefghijklmn";

    /// <summary>Acknowledged events before the kill, at the least: fewer would prove little.</summary>
    public const int MinimumAcknowledged = 300;

    public static async Task<DurabilityResult> RunAsync(Options options)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = database.ConnectionString,
            ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        var ids = new ConcurrentBag<string>();
        var acknowledged = new ConcurrentDictionary<string, bool>();

        var (server, address) = await OpsmeterProcess.StartAsync(environment);
        using (var client = Client(address))
        {
            using var stop = new CancellationTokenSource();
            long next = 0;
            var workers = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var id = $"durable-{Interlocked.Increment(ref next)}";
                    ids.Add(id);
                    if (await TryIngestAsync(client, id))
                    {
                        acknowledged[id] = true;
                    }
                }
            })).ToArray();
            // Kill mid-load: after half the duration, and not before the server has acknowledged enough to prove
            // something (bounded, so that a stuck server still ends the check), however slow the machine is today.
            var loading = System.Diagnostics.Stopwatch.StartNew();
            while ((loading.Elapsed < options.Duration / 2 || acknowledged.Count < MinimumAcknowledged)
                && loading.Elapsed < TimeSpan.FromSeconds(60) && !workers.Any(w => w.IsCompleted))
            {
                await Task.Delay(20);
            }

            await server.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }

        await server.DisposeAsync();
        var (restarted, newAddress) = await OpsmeterProcess.StartAsync(environment);
        await using (restarted)
        {
            var stored = await StoredCountsAsync(database.ConnectionString);
            var missing = acknowledged.Keys.Count(id => !stored.ContainsKey(id));
            var duplicated = stored.Values.Count(n => n > 1);
            using var client = Client(newAddress);
            var retried = ids.Except(acknowledged.Keys).ToList();
            foreach (var chunk in retried.Chunk(64))
            {
                await Task.WhenAll(chunk.Select(id => TryIngestAsync(client, id)));
            }

            var after = await StoredCountsAsync(database.ConnectionString);
            var result = new DurabilityResult(acknowledged.Count, retried.Count, missing, duplicated,
                ids.Distinct().Count(after.ContainsKey), ids.Distinct().Count());
            Console.WriteLine(result);
            return result;
        }
    }

    private static HttpClient Client(Uri address)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
        return client;
    }

    private static async Task<bool> TryIngestAsync(HttpClient client, string id)
    {
        using var content = new StringContent(Payloads.Event("x", 1).Replace("\"x-1\"", $"\"{id}\"", StringComparison.Ordinal), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await client.PostAsync("/v1/ingest", content);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<Dictionary<string, int>> StoredCountsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT external_request_id, count(*) FROM llm_requests GROUP BY 1", connection);
        await using var reader = await query.ExecuteReaderAsync();
        var counts = new Dictionary<string, int>();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = (int)reader.GetInt64(1);
        }

        return counts;
    }
}
