using System.Globalization;
using System.Text;
using Npgsql;

namespace Opsmeter.LoadTest;

/// <summary>
/// <c>fairness</c>: a quiet workspace alone and then while a noisy workspace floods batches, then alone again and while it
/// floods single events, each pair from a settled node (<see cref="SettleAsync"/>), on a server with per-workspace
/// admission (the default: 1 MiB of bodies in flight per workspace, half of it while another workspace sends) and on one
/// without it (<c>MaxInFlightBytesPerWorkspace</c> 0); both keep the default share of the commit queue. The quiet workspace sends single events at a fixed rate (<c>--quiet-rate</c>, 200/s), as an
/// app with its own traffic does, each latency counted from when the request was due; <c>--quiet-rate 0</c> makes it a
/// closed loop of <c>--quiet-concurrency</c> connections instead, which sends less when answered late and so hides part
/// of the wait (the measure of the entries before 2026-12-02 23:00 in docs/benchmarks.md). The flood runs as its own
/// process (<see cref="FloodProcess"/>) and warms up before the quiet workspace is measured beside it. The issue's bar:
/// the quiet workspace's p99 with the flood within 2× of its p99 alone, and none of its requests refused. The per-key
/// rate limit is the server's default (1,000 requests/s; <c>--per-key-rate</c>, 0 turns it off so that the flood meets
/// only admission and the share); the flood, like a hostile client, ignores <c>Retry-After</c> and sends again at once.
/// </summary>
internal static class FairnessBenchmark
{
    private const string QuietKey = "om_quietbench_0123456789abcdefghijklmn";
    private const string NoisyKey = "om_noisybench_0123456789abcdefghijklmn";

    public static async Task<int> RunAsync(Options options, int quietConcurrency, int quietRate, int perKeyRate)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        // The quiet workspace and its key are made by a first start's bootstrap; each measured server bootstraps the noisy one.
        var (first, _) = await OpsmeterProcess.StartAsync(Environment(database.ConnectionString, "quiet", QuietKey, admission: null, perKeyRate));
        await using (first)
        {
            await first.StopAsync();
        }

        var results = new List<(string Server, PhaseResult Quiet, PhaseResult? Noisy)>();
        foreach (var (server, admission) in new[] { ("admission on (default)", (int?)null), ("admission off", 0) })
        {
            var (opsmeter, url) = await OpsmeterProcess.StartAsync(Environment(database.ConnectionString, "noisy", NoisyKey, admission, perKeyRate));
            await using var _ = opsmeter;
            var quiet = new LoadDriver(url, QuietKey, quietConcurrency);
            Console.Error.WriteLine($"  {server}: warming up…");
            Task<PhaseResult> Quiet(string name) => quietRate > 0
                ? quiet.RunAtRateAsync(name, quietRate, options.Duration)
                : quiet.RunAsync(name, "/v1/ingest", 1, options.Duration, () => opsmeter.WorkingSetBytes);
            await quiet.RunAsync("warm-up", "/v1/ingest", 1, options.Warmup, () => opsmeter.WorkingSetBytes);
            foreach (var size in new[] { options.BatchSize, 1 })
            {
                var phase = $"{server}, noisy sends {(size == 1 ? "single events" : $"batches of {size}")}";
                await SettleAsync(database);
                results.Add((phase, await Quiet("quiet alone"), null));
                // The flood warms up first (its routes' JIT and tier-up, its share reached): the bar is about a steady flood.
                var flood = FloodProcess.RunAsync(url, NoisyKey, size == 1 ? "/v1/ingest" : "/v1/ingest/batch", size, options.Concurrency, options.Warmup + options.Duration);
                await Task.Delay(options.Warmup);
                var during = await Quiet("quiet + flood");
                results.Add((phase, during, await flood));
            }
        }

        var report = Report(options, quietConcurrency, quietRate, perKeyRate, database.Description, results);
        Console.WriteLine(report);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, report);
        }

        return 0;
    }

    /// <summary>
    /// Waits until the node has folded every stored event into the usage rollups, then checkpoints: each phase starts from a
    /// settled node, so neither the quiet app's baseline nor the next flood pays for the phase before. A batch flood leaves
    /// hundreds of thousands of events to fold, a pass that runs for seconds beside whatever comes next.
    /// </summary>
    private static async Task SettleAsync(BenchDatabase database)
    {
        await database.WaitFoldedAsync(TimeSpan.FromMinutes(5));
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
        await checkpoint.ExecuteNonQueryAsync();
    }

    private static Dictionary<string, string?> Environment(string connectionString, string workspace, string key, int? admission, int perKeyRate) => new()
    {
        ["ConnectionStrings__Opsmeter"] = connectionString,
        ["Opsmeter__Bootstrap__Workspace"] = workspace,
        ["Opsmeter__Bootstrap__ApiKey"] = key,
        ["Serilog__MinimumLevel__Default"] = "Warning",
        ["Opsmeter__RateLimits__PerKeyPerSecond"] = perKeyRate.ToString(CultureInfo.InvariantCulture),
        ["Opsmeter__Ingest__MaxInFlightBytesPerWorkspace"] = admission?.ToString(CultureInfo.InvariantCulture),
    };

    private static string Report(Options options, int quietConcurrency, int quietRate, int perKeyRate, string database, List<(string Server, PhaseResult Quiet, PhaseResult? Noisy)> results)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; PostgreSQL: {database}.");
        text.AppendLine(c, $"Quiet: single events {(quietRate > 0 ? $"at {quietRate}/s (open loop, up to {quietConcurrency} connections)" : $"on {quietConcurrency} connections (closed loop)")}. " +
                           $"Noisy (its own process): batches of {options.BatchSize}, then single events, on {options.Concurrency} connections. " +
                           $"{options.Duration.TotalSeconds:0} s per phase after {options.Warmup.TotalSeconds:0} s warm-up; MaxQueuedEvents 50,000; " +
                           $"per-key limit {(perKeyRate > 0 ? $"{perKeyRate:N0} requests/s" : "off")}.");
        text.AppendLine();
        text.AppendLine("| server | phase | quiet events/s | quiet p50 ms | quiet p99 ms | quiet refused | noisy events/s | noisy refused requests |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (server, quiet, noisy) in results)
        {
            text.AppendLine(c,
                $"| {server} | {(noisy is null ? "alone" : "with flood")} | {quiet.EventsPerSecond:N0} | {quiet.P50Ms:0.0} | {quiet.P99Ms:0.0} | {quiet.Failures} | " +
                $"{(noisy is null ? "–" : noisy.EventsPerSecond.ToString("N0", c))} | {(noisy is null ? "–" : noisy.Failures.ToString("N0", c))} |");
        }

        text.AppendLine();
        // Each flood row's "alone" row comes just before it.
        var alone = results[0].Quiet;
        foreach (var (server, quiet, noisy) in results)
        {
            if (noisy is null)
            {
                alone = quiet;
                continue;
            }

            text.AppendLine(c, $"{server}: quiet p99 with flood / alone = {quiet.P99Ms / alone.P99Ms:0.00} (bar: ≤ 2), quiet refused {quiet.Failures}.");
        }

        return text.ToString();
    }
}
