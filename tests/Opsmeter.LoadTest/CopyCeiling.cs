using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Opsmeter.LoadTest;

/// <summary>
/// The ceiling for batch ingest: one stream of binary COPY, 1,000 rows per transaction, of rows shaped
/// like Opsmeter's, into a table with llm_requests' own columns and indexes, for a fixed time.
/// </summary>
internal static class CopyCeiling
{
    public static async Task<PhaseResult> RunAsync(string connectionString, TimeSpan duration)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand(
            "DROP TABLE IF EXISTS copy_ceiling; CREATE TABLE copy_ceiling (LIKE llm_requests INCLUDING ALL)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var workspace = Guid.CreateVersion7();
        var stopwatch = Stopwatch.StartNew();
        long rows = 0;
        while (stopwatch.Elapsed < duration)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var importer = await connection.BeginBinaryImportAsync(
                "COPY copy_ceiling (workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, " +
                "tenant_id, input_tokens, output_tokens, total_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, " +
                "latency_ms, status, data_mode, environment, occurred_at, received_at, cost_usd, cost_status, input_cost_usd, " +
                "cached_input_cost_usd, cache_write_cost_usd, output_cost_usd, reasoning_cost_usd, metadata) FROM STDIN (FORMAT BINARY)"))
            {
                for (var k = 0; k < 1000; k++, rows++)
                {
                    var now = TimeProvider.System.GetUtcNow();
                    await importer.StartRowAsync();
                    await importer.WriteAsync(workspace, NpgsqlDbType.Uuid);
                    await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                    await importer.WriteAsync($"copy-{rows}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync("openai", NpgsqlDbType.Varchar);
                    await importer.WriteAsync("gpt-4o-mini", NpgsqlDbType.Varchar);
                    await importer.WriteAsync("support.reply", NpgsqlDbType.Varchar);
                    await importer.WriteAsync($"v{rows % 7}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync($"user-{rows % 5000}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync($"tenant-{rows % 200}", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(1000 + rows % 3000, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(100 + rows % 900, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(1100 + rows % 3900, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(rows % 500, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(0L, NpgsqlDbType.Bigint);
                    await importer.WriteAsync(0L, NpgsqlDbType.Bigint);
                    await importer.WriteAsync((int)(200 + rows % 2000), NpgsqlDbType.Integer);
                    await importer.WriteAsync("success", NpgsqlDbType.Varchar);
                    await importer.WriteAsync("real", NpgsqlDbType.Varchar);
                    await importer.WriteAsync("prod", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                    await importer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                    await importer.WriteAsync(0.00027m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync("priced", NpgsqlDbType.Varchar);
                    await importer.WriteAsync(0.00015m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(0m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(0m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(0.00012m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync(0m, NpgsqlDbType.Numeric);
                    await importer.WriteAsync("""{"team":"t1","beta":true}""", NpgsqlDbType.Jsonb);
                }

                await importer.CompleteAsync();
            }

            await transaction.CommitAsync();
        }

        var elapsed = stopwatch.Elapsed;
        return new PhaseResult("bare COPY", rows / 1000, rows, 0, elapsed, 0, 0, 0, null);
    }
}
