using System.Globalization;
using System.Text;

namespace Opsmeter.LoadTest;

/// <summary>
/// One run, four phases, each against the same machine at the same moment: the bare Kestrel ceiling and
/// Opsmeter's single-event ingest at the same concurrency, then the bare COPY ceiling and Opsmeter's
/// batch ingest. Every Opsmeter figure is reported as a ratio to its ceiling.
/// </summary>
internal static class Benchmark
{
    private const string ApiKey = "om_benchmark_0123456789abcdefghijklmnop";

    public static async Task<int> RunAsync(Options options)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = database.ConnectionString,
            ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        if (options.RollupIntervalSeconds is { } interval)
        {
            // How often the rollups fold new events: a long interval measures what that work costs ingest.
            environment["Opsmeter__Usage__RollupIntervalSeconds"] = interval.ToString(CultureInfo.InvariantCulture);
        }

        var (opsmeter, opsmeterUrl) = await OpsmeterProcess.StartAsync(environment);
        await using var _ = opsmeter;
        var (bare, bareUrl) = await BareKestrel.StartProcessAsync();
        await using var __ = bare;

        Console.Error.WriteLine($"Opsmeter at {opsmeterUrl}, bare Kestrel at {bareUrl}, PostgreSQL: {database.Description}");
        var single = new LoadDriver(opsmeterUrl, ApiKey, options.Concurrency);
        var bareDriver = new LoadDriver(bareUrl, null, options.Concurrency);
        var batch = new LoadDriver(opsmeterUrl, ApiKey, options.BatchConcurrency);

        PhaseResult? kestrel = null, singleResult = null, copy = null, batchResult = null;
        if (options.Phases is "all" or "single")
        {
            Console.Error.WriteLine("Warming up…");
            await bareDriver.RunAsync("warm-up bare", "/ingest", 1, options.Warmup, () => bare.WorkingSetBytes);
            await single.RunAsync("warm-up single", "/v1/ingest", 1, options.Warmup, () => opsmeter.WorkingSetBytes);
            kestrel = await bareDriver.RunAsync("bare Kestrel", "/ingest", 1, options.Duration, () => bare.WorkingSetBytes);
            singleResult = await single.RunAsync("Opsmeter single", "/v1/ingest", 1, options.Duration, () => opsmeter.WorkingSetBytes);
        }

        if (options.Phases is "all" or "batch")
        {
            await batch.RunAsync("warm-up batch", "/v1/ingest/batch", options.BatchSize, options.Warmup, () => opsmeter.WorkingSetBytes);
            Console.Error.WriteLine("  bare COPY        running…");
            copy = await CopyCeiling.RunAsync(database.ConnectionString, options.Duration);
            batchResult = await batch.RunAsync("Opsmeter batch", "/v1/ingest/batch", options.BatchSize, options.Duration, () => opsmeter.WorkingSetBytes);
        }

        PhaseResult? otlpBatch = null, otlp = null;
        if (options.Phases is "otlp")
        {
            // The same events two ways, one after the other at the same concurrency: JSON batches, then OTLP protobuf exports.
            await batch.RunAsync("warm-up batch", "/v1/ingest/batch", options.BatchSize, options.Warmup, () => opsmeter.WorkingSetBytes);
            await batch.RunOtlpAsync("warm-up OTLP", options.BatchSize, options.Warmup, () => opsmeter.WorkingSetBytes);
            otlpBatch = await batch.RunAsync("Opsmeter batch", "/v1/ingest/batch", options.BatchSize, options.Duration, () => opsmeter.WorkingSetBytes);
            otlp = await batch.RunOtlpAsync("Opsmeter OTLP", options.BatchSize, options.Duration, () => opsmeter.WorkingSetBytes);
        }

        var report = Report(options, database.Description, kestrel, singleResult, copy, batchResult);
        if (otlp is not null)
        {
            report = OtlpReport(options, database.Description, otlpBatch!, otlp);
        }


        Console.WriteLine(report);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, report);
        }

        return (singleResult?.Failures ?? 0) + (batchResult?.Failures ?? 0) + (otlpBatch?.Failures ?? 0) + (otlp?.Failures ?? 0) == 0 ? 0 : 1;
    }

    private static string Report(Options options, string database, PhaseResult? kestrel, PhaseResult? single, PhaseResult? copy, PhaseResult? batch)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; PostgreSQL: {database}.");
        text.AppendLine(c, $"{options.Duration.TotalSeconds:0} s per phase after {options.Warmup.TotalSeconds:0} s warm-up; single at {options.Concurrency} connections, batch ({options.BatchSize} events a request) at {options.BatchConcurrency}.");
        text.AppendLine();
        text.AppendLine("| phase | events/s | p50 ms | p95 ms | p99 ms | failed requests | server peak MB | ratio to ceiling |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        void Row(PhaseResult? r, PhaseResult? ceiling)
        {
            if (r is null)
            {
                return;
            }

            text.AppendLine(c,
            $"| {r.Name} | {r.EventsPerSecond:N0} | {r.P50Ms:0.0} | {r.P95Ms:0.0} | {r.P99Ms:0.0} | {r.Failures} | " +
            $"{(r.PeakServerBytes is { } b ? (b / 1048576.0).ToString("0", c) : "–")} | {(ceiling is null ? "ceiling" : (r.EventsPerSecond / ceiling.EventsPerSecond).ToString("0.00", c))} |");
        }

        Row(kestrel, null);
        Row(single, kestrel);
        Row(copy, null);
        Row(batch, copy);
        return text.ToString();
    }

    /// <summary><c>--phases otlp</c>: spans/s through <c>/v1/otlp/v1/traces</c> against events/s of the same events through <c>/v1/ingest/batch</c>.</summary>
    private static string OtlpReport(Options options, string database, PhaseResult batch, PhaseResult otlp)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; PostgreSQL: {database}.");
        text.AppendLine(c, $"{options.Duration.TotalSeconds:0} s per phase after {options.Warmup.TotalSeconds:0} s warm-up each; {options.BatchSize} events (spans) a request at {options.BatchConcurrency} connections.");
        text.AppendLine();
        text.AppendLine("| phase | events/s | p50 ms | p95 ms | p99 ms | failed requests | server peak MB | ratio to batch |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in new[] { batch, otlp })
        {
            text.AppendLine(c,
                $"| {r.Name} | {r.EventsPerSecond:N0} | {r.P50Ms:0.0} | {r.P95Ms:0.0} | {r.P99Ms:0.0} | {r.Failures} | " +
                $"{(r.PeakServerBytes is { } b ? (b / 1048576.0).ToString("0", c) : "–")} | {r.EventsPerSecond / batch.EventsPerSecond:0.00} |");
        }

        return text.ToString();
    }
}
