using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Npgsql;

namespace Opsmeter.LoadTest;

/// <summary>
/// <c>pricing:reprice</c> over <c>--events</c> unpriced events (default 1,000,000) while single-event ingest runs: the
/// job's rate against a ceiling measured in the same run (one plain UPDATE pricing a fifth as many rows of another
/// workspace: no batches, no rollups), and ingest's throughput and p99 beside it against ingest alone.
/// </summary>
internal static class RepriceBenchmark
{
    private const string ApiKey = "om_benchmark_reprice_0123456789abcdefgh";
    private const string Model = "bench-house-model";

    public static async Task<int> RunAsync(Options options, long events)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        var (opsmeter, url) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = database.ConnectionString,
            ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        });
        await using var _ = opsmeter;
        using var client = new HttpClient { BaseAddress = url };
        client.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
        var day = DateTimeOffset.UtcNow.Date.AddDays(-1);
        // One event through the API makes the day's partition; the rest are written by SQL, as a day of unpriced traffic.
        (await client.PostAsync("/v1/ingest", JsonContent.Create(new
        {
            externalRequestId = "partition", provider = "openai", model = Model, inputTokens = 1, outputTokens = 1, status = "success",
            occurredAt = new DateTimeOffset(day.AddHours(12), TimeSpan.Zero),
        }))).EnsureSuccessStatusCode();

        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        var workspace = (Guid)(await db.CreateCommand("SELECT workspace_id FROM llm_requests LIMIT 1").ExecuteScalarAsync())!;
        var generating = Stopwatch.StartNew();
        await GenerateAsync(db, workspace, day, events);
        var ceilingWorkspace = Guid.CreateVersion7();
        await GenerateAsync(db, ceilingWorkspace, day, events / 5); // the ceiling's rows, in a workspace of their own
        Console.Error.WriteLine($"{events:N0} + {events / 5:N0} unpriced events written in {generating.Elapsed.TotalSeconds:0} s; waiting for the rollups");
        await database.WaitFoldedAsync(TimeSpan.FromMinutes(10));

        var ceiling = await CeilingAsync(db, ceilingWorkspace, events / 5);
        var driver = new LoadDriver(url, ApiKey, options.Concurrency);
        await driver.RunAsync("warm-up", "/v1/ingest", 1, options.Warmup, () => opsmeter.WorkingSetBytes);
        var alone = await driver.RunAsync("single ingest alone", "/v1/ingest", 1, options.Duration, () => opsmeter.WorkingSetBytes);

        (await client.PostAsync("/v1/pricing/overrides", JsonContent.Create(new
        {
            provider = "openai", model = Model, inputPerMillionUsd = 0.6m, outputPerMillionUsd = 1.2m, effectiveFrom = new DateTimeOffset(day, TimeSpan.Zero),
            reason = "benchmark",
        }))).EnsureSuccessStatusCode();
        var repricing = Stopwatch.StartNew();
        var done = WaitRepricedAsync(db, workspace);
        var during = await driver.RunAsync("single ingest during re-pricing", "/v1/ingest", 1, options.Duration, () => opsmeter.WorkingSetBytes);
        var duringRepricing = !done.IsCompleted;
        await done;
        var rate = events / repricing.Elapsed.TotalSeconds;

        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; {database.Description}.");
        text.AppendLine(c, $"{events:N0} unpriced events of one model; ingest phases {options.Duration.TotalSeconds:0} s, {options.Concurrency} connections.");
        text.AppendLine();
        text.AppendLine("| what | rate | p50 ms | p99 ms | ratio |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        text.AppendLine(c, $"| ceiling: one UPDATE pricing {events / 5:N0} rows | {ceiling:N0} rows/s | | | 1.00 |");
        text.AppendLine(c, $"| pricing:reprice, queued by the override, until none is left | {rate:N0} events/s | | | {rate / ceiling:0.00} of the ceiling |");
        text.AppendLine(c, $"| single ingest alone | {alone.EventsPerSecond:N0} events/s | {alone.P50Ms:0.0} | {alone.P99Ms:0.0} | 1.00 |");
        text.AppendLine(c, $"| single ingest during re-pricing{(duringRepricing ? "" : " (the job ended first)")} | {during.EventsPerSecond:N0} events/s | " +
                           $"{during.P50Ms:0.0} | {during.P99Ms:0.0} | {during.EventsPerSecond / alone.EventsPerSecond:0.00} |");
        Console.WriteLine(text);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, text.ToString());
        }

        return alone.Failures + during.Failures == 0 ? 0 : 1;
    }

    private static async Task GenerateAsync(NpgsqlDataSource db, Guid workspace, DateTime day, long count)
    {
        const long Chunk = 200_000;
        for (long first = 0; first < count; first += Chunk)
        {
            await using var command = db.CreateCommand($"""
                WITH rows AS (
                    SELECT n, @day + (n % 86400) * interval '1 second' AS at FROM generate_series(@first, @last) AS n),
                keys AS (
                    INSERT INTO ingest_keys (workspace_id, external_request_id, occurred_at, received_at, cost_usd, cost_status)
                    SELECT @workspace, 'bench-' || n, at, at, 0, 'unpriced' FROM rows)
                INSERT INTO llm_requests (workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id,
                    input_tokens, output_tokens, total_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, status, data_mode,
                    environment, occurred_at, received_at, cost_usd, cost_status, input_cost_usd, cached_input_cost_usd, cache_write_cost_usd,
                    output_cost_usd, reasoning_cost_usd)
                SELECT @workspace, gen_random_uuid(), 'bench-' || n, 'openai', '{Model}', 'endpoint-' || (n % 20), 'v' || (n % 5),
                    'user-' || (n % 5000), 'tenant-' || (n % 200), 1000 + n % 3000, 100 + n % 900, 1100 + n % 3000 + n % 900, 0, 0, 0, 'success', 'real',
                    'prod', at, at, 0, 'unpriced', 0, 0, 0, 0, 0
                FROM rows
                """);
            command.Parameters.AddWithValue("workspace", workspace);
            command.Parameters.AddWithValue("day", new DateTimeOffset(day, TimeSpan.Zero));
            command.Parameters.AddWithValue("first", first);
            command.Parameters.AddWithValue("last", Math.Min(count, first + Chunk) - 1);
            command.CommandTimeout = 600;
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The plain statement: every unpriced row of the ceiling's workspace priced at once, no rollups, no batches.</summary>
    private static async Task<double> CeilingAsync(NpgsqlDataSource db, Guid workspace, long rows)
    {
        var clock = Stopwatch.StartNew();
        await using var update = db.CreateCommand("""
            UPDATE llm_requests SET cost_usd = (input_tokens * 0.6 + output_tokens * 1.2) / 1000000, cost_status = 'priced',
                input_cost_usd = input_tokens * 0.6 / 1000000, output_cost_usd = output_tokens * 1.2 / 1000000
            WHERE workspace_id = @workspace AND cost_status = 'unpriced'
            """);
        update.Parameters.AddWithValue("workspace", workspace);
        update.CommandTimeout = 600;
        await update.ExecuteNonQueryAsync();
        return rows / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Waits for the job to succeed (Hangfire's own table: a cheap poll that does not load the events), then checks its work.</summary>
    private static async Task WaitRepricedAsync(NpgsqlDataSource db, Guid workspace)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var state = (string?)await db.CreateCommand(
                "SELECT statename FROM hangfire.job WHERE invocationdata::text LIKE '%RepriceJob%' ORDER BY id DESC LIMIT 1").ExecuteScalarAsync();
            if (state is "Succeeded")
            {
                break;
            }

            if (state is "Failed" || waited.Elapsed > TimeSpan.FromMinutes(30))
            {
                throw new InvalidOperationException($"Re-pricing ended {state ?? "unstarted"} after {waited.Elapsed.TotalSeconds:0} s.");
            }

            await Task.Delay(1000);
        }

        await using var count = db.CreateCommand($"SELECT count(*) FROM llm_requests WHERE workspace_id = @workspace AND model = '{Model}' AND cost_status = 'unpriced'");
        count.Parameters.AddWithValue("workspace", workspace);
        if ((long)(await count.ExecuteScalarAsync())! != 0)
        {
            throw new InvalidOperationException("The job succeeded but left events unpriced.");
        }
    }
}
