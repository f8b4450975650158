using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Opsmeter.LoadTest;

/// <summary>
/// <c>GET /v1/exports/requests.csv</c> over <c>--rows</c> events (default 1,000,000; issue target: at least 100,000
/// rows/s with the server's memory flat), against the ceiling of PostgreSQL's own <c>COPY (SELECT …) TO STDOUT
/// (FORMAT csv)</c> of the same rows in the same order, in the same run.
/// </summary>
internal static class ExportBenchmark
{
    private const string ApiKey = "om_benchmark_export_0123456789abcdefghij";

    private const string Columns = """
        occurred_at, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id, data_mode, environment, status,
        error_code, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens, reasoning_tokens, total_tokens, latency_ms,
        cost_usd, cost_status
        """;

    public static async Task<int> RunAsync(Options options, long rows)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: false);
        var (server, address) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = database.ConnectionString,
            ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        });
        await using var _ = server;
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        var workspaceId = (Guid)(await db.CreateCommand("SELECT id FROM workspaces WHERE name = 'default'").ExecuteScalarAsync())!;
        var start = DateTimeOffset.UtcNow.AddDays(-20);
        Console.Error.WriteLine($"Writing {rows:N0} events…");
        await using (var insert = db.CreateCommand($"""
            SELECT ensure_llm_request_partitions((@start AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date);
            INSERT INTO llm_requests (workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id,
                input_tokens, output_tokens, total_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens, latency_ms, status,
                data_mode, environment, occurred_at, received_at, cost_usd, cost_status, input_cost_usd, cached_input_cost_usd,
                cache_write_cost_usd, output_cost_usd, reasoning_cost_usd)
            SELECT @workspace, gen_random_uuid(), 'bench-' || i, 'openai', (ARRAY['gpt-4o','gpt-4o-mini','claude-sonnet-4-5'])[1 + i % 3],
                   'endpoint-' || (i % 12), 'v' || (i % 5), 'user-' || (i % 5000), 'tenant-' || (i % 200), 1000 + i % 500, 100, 1100 + i % 500,
                   i % 300, 0, 0, 300 + i % 900, CASE WHEN i % 50 = 0 THEN 'error' ELSE 'success' END, 'real', 'prod',
                   @start + make_interval(secs => i * (1728000.0 / {rows})), now(), 0.0035, 'priced', 0.0025, 0, 0, 0.001, 0
            FROM generate_series(1, {rows}) AS i
            """))
        {
            insert.CommandTimeout = 0;
            insert.Parameters.AddWithValue("workspace", workspaceId);
            insert.Parameters.AddWithValue("start", start);
            await insert.ExecuteNonQueryAsync();
        }

        await using (var analyze = db.CreateCommand("VACUUM ANALYZE llm_requests"))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var from = Uri.EscapeDataString(start.AddMinutes(-1).ToString("O", CultureInfo.InvariantCulture));
        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
        Console.Error.WriteLine("Warming up (one export)…");
        await ExportAsync(client, $"/v1/exports/requests.csv?from={from}&to={to}", () => server.WorkingSetBytes);

        Console.Error.WriteLine("Ceiling: COPY … TO STDOUT (FORMAT csv)…");
        var ceiling = await CopyOutAsync(db, workspaceId, start.AddMinutes(-1));
        Console.Error.WriteLine("Opsmeter: GET /v1/exports/requests.csv…");
        var export = await ExportAsync(client, $"/v1/exports/requests.csv?from={from}&to={to}", () => server.WorkingSetBytes);

        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; {rows:N0} events, PostgreSQL: {database.Description}.");
        text.AppendLine();
        text.AppendLine("| phase | rows | MB | seconds | rows/s | server MB before → peak | ratio to ceiling |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        text.AppendLine(c, $"| COPY TO STDOUT (csv) | {ceiling.Rows:N0} | {ceiling.Bytes / 1048576.0:0} | {ceiling.Seconds:0.00} | {ceiling.Rows / ceiling.Seconds:N0} | – | ceiling |");
        text.AppendLine(c, $"| Opsmeter requests.csv | {export.Rows:N0} | {export.Bytes / 1048576.0:0} | {export.Seconds:0.00} | {export.Rows / export.Seconds:N0} | " +
                           $"{export.ServerBefore / 1048576.0:0} → {export.ServerPeak / 1048576.0:0} | {export.Rows / export.Seconds / (ceiling.Rows / ceiling.Seconds):0.00} |");
        Console.WriteLine(text);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, text.ToString());
        }

        return export.Rows == rows ? 0 : 1;
    }

    private sealed record Transfer(long Rows, long Bytes, double Seconds, long ServerBefore, long ServerPeak);

    private static async Task<Transfer> ExportAsync(HttpClient client, string path, Func<long> serverBytes)
    {
        var before = serverBytes();
        long peak = before, bytes = 0, lines = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, serverBytes());
                await Task.Delay(100, CancellationToken.None);
            }
        });
        var watch = Stopwatch.StartNew();
        using (var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead))
        {
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                bytes += read;
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            }
        }

        var seconds = watch.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        return new Transfer(lines - 1, bytes, seconds, before, peak);
    }

    private static async Task<Transfer> CopyOutAsync(NpgsqlDataSource db, Guid workspaceId, DateTimeOffset from)
    {
        await using var connection = await db.OpenConnectionAsync();
        var watch = Stopwatch.StartNew();
        long bytes = 0, lines = 0;
        using (var reader = await connection.BeginTextExportAsync(
            $"COPY (SELECT {Columns} FROM llm_requests WHERE workspace_id = '{workspaceId}' AND occurred_at >= '{from:O}' ORDER BY occurred_at, id) TO STDOUT (FORMAT csv, HEADER)"))
        {
            var buffer = new char[1 << 15];
            int read;
            while ((read = await reader.ReadAsync(buffer)) > 0)
            {
                bytes += read;
                lines += buffer.AsSpan(0, read).Count('\n');
            }
        }

        return new Transfer(lines - 1, bytes, watch.Elapsed.TotalSeconds, 0, 0);
    }
}
