using System.Globalization;
using System.Text;

namespace Opsmeter.LoadTest;

/// <summary>
/// <c>limits</c>: single-event ingest with the per-key rate limiter off (<c>PerKeyPerSecond=0</c>) against on with a
/// limit far above the load, alternating servers on the same database, so that what the ratio shows is the
/// limiter's own cost (partition lookup and token bucket per request), not refusals. The bar: on ≥ 0.95 × off.
/// </summary>
internal static class RateLimitBenchmark
{
    private const string ApiKey = "om_benchmark_0123456789abcdefghijklmnop";

    public static async Task<int> RunAsync(Options options, int rounds)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        var results = new List<(bool On, PhaseResult Result)>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var on in new[] { false, true })
            {
                results.Add((on, await RunOneAsync(options, database.ConnectionString, on)));
            }
        }

        var report = Report(options, database.Description, results);
        Console.WriteLine(report);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, report);
        }

        return results.Sum(r => r.Result.Failures) == 0 ? 0 : 1;
    }

    private static async Task<PhaseResult> RunOneAsync(Options options, string connectionString, bool on)
    {
        var (opsmeter, url) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = connectionString,
            ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["Opsmeter__RateLimits__PerKeyPerSecond"] = on ? "1000000" : "0",
            ["Opsmeter__RateLimits__Burst"] = "1000000",
        });
        await using var _ = opsmeter;
        var driver = new LoadDriver(url, ApiKey, options.Concurrency);
        var name = on ? "limiter on (1,000,000/s)" : "limiter off";
        Console.Error.WriteLine($"  {name}: warming up…");
        await driver.RunAsync("warm-up", "/v1/ingest", 1, options.Warmup, () => opsmeter.WorkingSetBytes);
        return await driver.RunAsync(name, "/v1/ingest", 1, options.Duration, () => opsmeter.WorkingSetBytes);
    }

    private static string Report(Options options, string database, List<(bool On, PhaseResult Result)> results)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; PostgreSQL: {database}.");
        text.AppendLine(c, $"Single ingest, one key, {options.Concurrency} connections; {options.Duration.TotalSeconds:0} s per phase after {options.Warmup.TotalSeconds:0} s warm-up, a fresh server each phase, off and on alternating.");
        text.AppendLine();
        text.AppendLine("| phase | events/s | p50 ms | p95 ms | p99 ms | failed requests | server peak MB |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (_, r) in results)
        {
            text.AppendLine(c,
                $"| {r.Name} | {r.EventsPerSecond:N0} | {r.P50Ms:0.0} | {r.P95Ms:0.0} | {r.P99Ms:0.0} | {r.Failures} | " +
                $"{(r.PeakServerBytes is { } b ? (b / 1048576.0).ToString("0", c) : "–")} |");
        }

        var off = results.Where(r => !r.On).Average(r => r.Result.EventsPerSecond);
        var on = results.Where(r => r.On).Average(r => r.Result.EventsPerSecond);
        text.AppendLine();
        text.AppendLine(c, $"Mean events/s: off {off:N0}, on {on:N0}; on/off = {on / off:0.00} (bar: ≥ 0.95).");
        return text.ToString();
    }
}
