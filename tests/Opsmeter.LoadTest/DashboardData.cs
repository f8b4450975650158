using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.LoadTest;

/// <summary>
/// Writes a dashboard-sized data set straight into llm_requests with binary COPY (ingest speed is measured
/// elsewhere): events spread over the last <c>days</c>, in time order, across 12 endpoints, 30 prompt versions, 8 models,
/// 5,000 users and 200 tenants, 3 % errors; and folds each chunk into the rollups as the server would.
/// </summary>
internal static class DashboardData
{
    private static readonly (string Provider, string Model, decimal In, decimal Out)[] Models =
    [
        ("openai", "gpt-4o-mini", 0.15m, 0.60m), ("openai", "gpt-4.1", 2m, 8m), ("openai", "gpt-4o", 2.5m, 10m), ("openai", "o4-mini", 1.1m, 4.4m),
        ("anthropic", "claude-sonnet-4-5", 3m, 15m), ("anthropic", "claude-haiku-4-5", 1m, 5m), ("google", "gemini-2.5-flash", 0.3m, 2.5m),
        ("openai", "internal-finetune", 0m, 0m),
    ];

    public static async Task GenerateAsync(NpgsqlDataSource db, Guid workspaceId, long events, int days, TimeProvider clock)
    {
        const int Chunk = 250_000;
        var random = new Random(42);
        var now = clock.GetUtcNow();
        var rollups = new RollupWorker(db, clock, new ConfigurationBuilder().Build(), NullLogger<RollupWorker>.Instance);
        var stopwatch = Stopwatch.StartNew();
        await using (var partitions = db.CreateCommand("SELECT ensure_llm_request_partitions(@from, @to)"))
        {
            partitions.Parameters.AddWithValue("from", DateOnly.FromDateTime(now.UtcDateTime).AddDays(-days - 1));
            partitions.Parameters.AddWithValue("to", DateOnly.FromDateTime(now.UtcDateTime).AddDays(1));
            await partitions.ExecuteNonQueryAsync();
        }

        // Chunk by chunk in time order, each chunk folded before the next, as events arrive and are folded in production:
        // a finished day's rollup rows were last written together. (Chunks spread over all the days would rewrite every
        // day's rows once per chunk and scatter them over the whole table, a layout production never makes.)
        var chunks = (events + Chunk - 1) / Chunk;
        var slice = TimeSpan.FromDays(days) / chunks;
        for (long written = 0; written < events; written += Chunk)
        {
            var sliceStart = now - TimeSpan.FromDays(days) + (slice * (written / Chunk));
            await using (var connection = await db.OpenConnectionAsync())
            await using (var importer = await connection.BeginBinaryImportAsync(
                "COPY llm_requests (workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id, " +
                "input_tokens, output_tokens, total_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, latency_ms, status, " +
                "data_mode, environment, occurred_at, received_at, cost_usd, cost_status, input_cost_usd, cached_input_cost_usd, " +
                "cache_write_cost_usd, output_cost_usd, reasoning_cost_usd) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0L; i < Math.Min(Chunk, events - written); i++)
                {
                    var n = written + i;
                    var (provider, model, inPrice, outPrice) = Models[(int)(Math.Abs(random.NextDouble() * random.NextDouble()) * Models.Length)];
                    var input = random.Next(200, 12_000);
                    var output = random.Next(20, 1_500);
                    var inputCost = input * inPrice / 1_000_000m;
                    var outputCost = output * outPrice / 1_000_000m;
                    var at = sliceStart + (slice * random.NextDouble());
                    var endpoint = random.Next(12);
                    await importer.StartRowAsync();
                    await importer.WriteAsync(workspaceId, NpgsqlDbType.Uuid);
                    await importer.WriteAsync(Guid.CreateVersion7(at), NpgsqlDbType.Uuid);
                    await importer.WriteAsync($"gen-{n}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(provider, NpgsqlDbType.Varchar);
                    await importer.WriteAsync(model, NpgsqlDbType.Varchar);
                    await importer.WriteAsync($"feature{endpoint}.action", NpgsqlDbType.Varchar);
                    await importer.WriteAsync($"feature{endpoint}_v{random.Next(1, 4)}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync($"user-{random.Next(5000)}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync($"tenant-{random.Next(200)}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync((long)input, NpgsqlDbType.Bigint);
                    await importer.WriteAsync((long)output, NpgsqlDbType.Bigint);
                    await importer.WriteAsync((long)(input + output), NpgsqlDbType.Bigint);
                    await importer.WriteAsync(0L, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(0L, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(0L, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(random.Next(150, 8_000), NpgsqlDbType.Integer);
                    await importer.WriteAsync(random.Next(33) == 0 ? "error" : "success", NpgsqlDbType.Varchar);
                    await importer.WriteAsync("real", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(random.Next(10) == 0 ? "staging" : "prod", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(at, NpgsqlDbType.TimestampTz);
                    await importer.WriteAsync(at, NpgsqlDbType.TimestampTz);
                    await importer.WriteAsync(inputCost + outputCost, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(inPrice == 0 ? "unpriced" : "priced", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(inputCost, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(0m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(0m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(outputCost, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(0m, NpgsqlDbType.Numeric);
                }

                await importer.CompleteAsync();
            }

            await rollups.RunOnceAsync(CancellationToken.None);
            Console.Error.WriteLine($"  {Math.Min(written + Chunk, events):N0} events written and rolled up, {stopwatch.Elapsed.TotalSeconds:0} s");
        }

        await using var analyze = db.CreateCommand("ANALYZE llm_requests; ANALYZE usage_rollups");
        analyze.CommandTimeout = 0; // ninety partitions of 110,000 rows: longer than the default 30 s
        await analyze.ExecuteNonQueryAsync();
    }
}
