using System.Globalization;
using System.Text;
using Npgsql;

namespace Opsmeter.LoadTest;

/// <summary>
/// <c>fairness</c>: a quiet workspace alone and then while a noisy workspace floods batches, then alone again and while it
/// floods single events, each pair from a settled node (<see cref="SettleAsync"/>) and repeated <c>--rounds</c> times (5),
/// on a server with per-workspace
/// admission (the default: 1 MiB of bodies in flight per workspace, half of it while another workspace sends) and on one
/// without it (<c>MaxInFlightBytesPerWorkspace</c> 0; <c>--admission on</c> measures only the default); both keep the default share of the commit queue. The quiet workspace sends single events at a fixed rate (<c>--quiet-rate</c>, 200/s), as an
/// app with its own traffic does, each latency counted from when the request was due; <c>--quiet-rate 0</c> makes it a
/// closed loop of <c>--quiet-concurrency</c> connections instead, which sends less when answered late and so hides part
/// of the wait (the measure of the entries before 2026-12-02 23:00 in docs/benchmarks.md). The flood runs as its own
/// process (<see cref="FloodProcess"/>) and warms up before the quiet workspace is measured beside it. The issue's bar:
/// the quiet workspace's p99 with the flood within 2× of its p99 alone, and none of its requests refused; the verdict is the
/// median of the rounds' ratios (see <see cref="Report"/>), and the report gives each round's ratio and how
/// late the idle machine itself wakes a thread (<see cref="MachineInfo.IdleWakeups"/>). The per-key
/// rate limit is the server's default (1,000 requests/s; <c>--per-key-rate</c>, 0 turns it off so that the flood meets
/// only admission and the share); the flood, like a hostile client, ignores <c>Retry-After</c> and sends again at once.
/// </summary>
internal static class FairnessBenchmark
{
    private const string QuietKey = "om_quietbench_0123456789abcdefghijklmn";
    private const string NoisyKey = "om_noisybench_0123456789abcdefghijklmn";

    public static async Task<int> RunAsync(Options options, int quietConcurrency, int quietRate, int perKeyRate, int rounds, bool alsoWithoutAdmission)
    {
        rounds = Math.Max(1, rounds);
        var idleBefore = MachineInfo.IdleWakeups(TimeSpan.FromSeconds(5));
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        // The quiet workspace and its key are made by a first start's bootstrap; each measured server bootstraps the noisy one.
        var (first, _) = await OpsmeterProcess.StartAsync(Environment(database.ConnectionString, "quiet", QuietKey, admission: null, perKeyRate));
        await using (first)
        {
            await first.StopAsync();
        }

        var sizes = options.Phases switch { "batch" => new[] { options.BatchSize }, "single" => [1], _ => [options.BatchSize, 1] };
        var results = new List<Round>();
        var servers = new[] { ("admission on (default)", (int?)null), ("admission off", 0) }.Take(alsoWithoutAdmission ? 2 : 1);
        foreach (var (server, admission) in servers)
        {
            var (opsmeter, url) = await OpsmeterProcess.StartAsync(Environment(database.ConnectionString, "noisy", NoisyKey, admission, perKeyRate));
            await using var _ = opsmeter;
            var quiet = new LoadDriver(url, QuietKey, quietConcurrency);
            Console.Error.WriteLine($"  {server}: warming up…");
            Task<PhaseResult> Quiet(string name) => quietRate > 0
                ? quiet.RunAtRateAsync(name, quietRate, options.Duration)
                : quiet.RunAsync(name, "/v1/ingest", 1, options.Duration, () => opsmeter.WorkingSetBytes);
            await quiet.RunAsync("warm-up", "/v1/ingest", 1, options.Warmup, () => opsmeter.WorkingSetBytes);
            foreach (var size in sizes)
            {
                var phase = $"{server}, noisy sends {Floods(size)}";
                // Rounds alternate alone and with the flood, so that a slow stretch of the machine falls on both sides alike.
                for (var round = 1; round <= rounds; round++)
                {
                    Console.Error.WriteLine($"  {phase}, round {round} of {rounds}…");
                    await SettleAsync(database);
                    var alone = await Quiet("quiet alone");
                    // The flood warms up first (its routes' JIT and tier-up, its share reached): the bar is about a steady flood.
                    var flood = FloodProcess.RunAsync(url, NoisyKey, size == 1 ? "/v1/ingest" : "/v1/ingest/batch", size, options.Concurrency, options.Warmup + options.Duration);
                    await Task.Delay(options.Warmup);
                    var during = await Quiet("quiet + flood");
                    results.Add(new Round(phase, round, alone, during, await flood));
                }
            }
        }

        var machine = $"{idleBefore} before the run, {MachineInfo.IdleWakeups(TimeSpan.FromSeconds(5))} after it";
        var report = Report(options, quietConcurrency, quietRate, perKeyRate, database.Description, machine, sizes, results);
        Console.WriteLine(report);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, report);
        }

        return 0;
    }

    /// <summary>One round of a phase: the quiet workspace alone, then beside the flood.</summary>
    private sealed record Round(string Phase, int Number, PhaseResult Alone, PhaseResult WithFlood, PhaseResult Flood)
    {
        public double Ratio => WithFlood.P99Ms / Alone.P99Ms;
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

    private static string Floods(int size) => size == 1 ? "single events" : $"batches of {size}";

    private static string Report(Options options, int quietConcurrency, int quietRate, int perKeyRate, string database, string machine,
        int[] sizes, List<Round> results)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; PostgreSQL: {database}.");
        text.AppendLine(c, $"Quiet: single events {(quietRate > 0 ? $"at {quietRate}/s (open loop, up to {quietConcurrency} connections)" : $"on {quietConcurrency} connections (closed loop)")}. " +
                           $"Noisy (its own process): {string.Join(", then ", sizes.Select(Floods))}, on {options.Concurrency} connections. " +
                           $"{options.Duration.TotalSeconds:0} s per phase after {options.Warmup.TotalSeconds:0} s warm-up; MaxQueuedEvents 50,000; " +
                           $"per-key limit {(perKeyRate > 0 ? $"{perKeyRate:N0} requests/s" : "off")}.");
        text.AppendLine(c, $"Machine: {machine}.");
        text.AppendLine();
        text.AppendLine("| server, phase | round | quiet p99 alone ms | quiet p99 with flood ms | ratio | quiet p50 alone / with flood ms | quiet refused | noisy events/s | noisy refused requests |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            text.AppendLine(c,
                $"| {r.Phase} | {r.Number} | {r.Alone.P99Ms:0.0} | {r.WithFlood.P99Ms:0.0} | {r.Ratio:0.00} | {r.Alone.P50Ms:0.0} / {r.WithFlood.P50Ms:0.0} | " +
                $"{r.Alone.Failures + r.WithFlood.Failures} | {r.Flood.EventsPerSecond:N0} | {r.Flood.Failures:N0} |");
        }

        text.AppendLine();
        // One phase's p99 is its 20th-worst request, and one stall of the machine decides it (docs/benchmarks.md "Fairness in
        // rounds": phases with no flood at all here reached p99s of 100–470 ms): on the alone side it makes the ratio small,
        // on the flood side large. The verdict is the median of the rounds' ratios, which neither side's stray stall moves;
        // the p99 of each side's requests of all rounds together is given beside it.
        foreach (var phase in results.GroupBy(r => r.Phase))
        {
            var rounds = phase.ToList();
            var refused = rounds.Sum(r => r.Alone.Failures + r.WithFlood.Failures);
            var ratios = rounds.Select(r => r.Ratio).Order().ToList();
            var median = ratios.Count % 2 == 1 ? ratios[ratios.Count / 2] : (ratios[(ratios.Count / 2) - 1] + ratios[ratios.Count / 2]) / 2;
            var pooled = rounds.All(r => r.Alone.Latencies is not null && r.WithFlood.Latencies is not null)
                ? $"; all rounds' requests together {PhaseResult.Pooled(rounds.Select(r => r.WithFlood), 0.99):0.0} ms with the flood / " +
                  $"{PhaseResult.Pooled(rounds.Select(r => r.Alone), 0.99):0.0} ms alone"
                : "";
            text.AppendLine(c, $"{phase.Key}: quiet p99 with flood / alone, median of {rounds.Count} rounds {median:0.00} (bar: ≤ 2); " +
                               $"by round {string.Join(", ", rounds.Select(r => r.Ratio.ToString("0.00", c)))}{pooled}; quiet refused {refused}.");
        }

        return text.ToString();
    }
}
