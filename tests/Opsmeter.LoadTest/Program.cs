namespace Opsmeter.LoadTest;

/// <summary>
/// <code>
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- [benchmark] [--duration 20] [--concurrency 64]
///     [--batch-concurrency 4] [--batch-size 1000] [--warmup 3] [--connection CS] [--markdown FILE]
///     [--phases single|batch|all|otlp] [--rollup-interval SECONDS]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- limits [--duration 20] [--concurrency 64] [--warmup 10] [--rounds 2]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- fairness [--duration 20] [--concurrency 64] [--batch-size 1000] [--quiet-rate 200] [--quiet-concurrency 16, 4 with --quiet-rate 0]
///     [--per-key-rate 1000] [--rounds 5] [--phases batch|single|all] [--admission on|both] [--warmup 10]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- nodes [--duration 20] [--concurrency 64] [--batch-concurrency 4] [--batch-size 1000] [--warmup 3]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- durability [--seconds 4] [--connection CS]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- dashboard [--events 10000000] [--days 90] [--samples 20] [--keep DIR]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- policy [--duration 20] [--concurrency 64] [--budgets 20]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- export [--rows 1000000]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- client [BenchmarkDotNet arguments, e.g. --filter *Track*]
/// dotnet run -c Release --project tests/Opsmeter.LoadTest -- reprice [--events 1000000] [--duration 20] [--concurrency 64]
/// </code>
/// (<c>--keep DIR</c> keeps the dashboard's cluster and data in DIR, so a rerun skips generating them;
/// <c>bare-server URL</c> is how the benchmark starts its ceiling server.) A named class rather than
/// top-level statements, so that test projects can reference both this program and Opsmeter.Web.
/// </summary>
internal static class LoadTestProgram
{
    public static async Task<int> Main(string[] args) => args switch
    {
        ["bare-server", var url, ..] => await RunBareServer(url),
        ["flood", .. var rest] => await FloodProcess.MainAsync(rest),
        ["durability", .. var rest] => (await DurabilityCheck.RunAsync(Options.Parse(rest))).Passed ? 0 : 1,
        ["policy", .. var rest] => await PolicyBenchmark.RunAsync(Options.Parse(rest), budgets: (int)Options.Long(rest, "--budgets", 20)),
        ["export", .. var rest] => await ExportBenchmark.RunAsync(Options.Parse(rest), rows: Options.Long(rest, "--rows", 1_000_000)),
        ["limits", .. var rest] => await RateLimitBenchmark.RunAsync(Options.Parse(rest), rounds: (int)Options.Long(rest, "--rounds", 2)),
        ["nodes", .. var rest] => await NodesBenchmark.RunAsync(Options.Parse(rest)),
        ["fairness", .. var rest] => await FairnessBenchmark.RunAsync(Options.Parse(rest), quietRate: (int)Options.Long(rest, "--quiet-rate", 200),
            quietConcurrency: (int)Options.Long(rest, "--quiet-concurrency", Options.Long(rest, "--quiet-rate", 200) > 0 ? 16 : 4),
            perKeyRate: (int)Options.Long(rest, "--per-key-rate", 1000), rounds: (int)Options.Long(rest, "--rounds", 5),
            alsoWithoutAdmission: Options.Value(rest, "--admission") != "on"),
        ["benchmark", .. var rest] => await Benchmark.RunAsync(Options.Parse(rest)),
        ["client", .. var rest] => ClientBenchmarks.Run(rest),
        ["reprice", .. var rest] => await RepriceBenchmark.RunAsync(Options.Parse(rest), events: Options.Long(rest, "--events", 1_000_000)),
        ["dashboard", .. var rest] => await DashboardBenchmark.RunAsync(Options.Parse(rest),
            events: Options.Long(rest, "--events", 10_000_000), days: (int)Options.Long(rest, "--days", 90), samples: (int)Options.Long(rest, "--samples", 20)),
        _ => await Benchmark.RunAsync(Options.Parse(args)),
    };

    private static async Task<int> RunBareServer(string url)
    {
        await BareKestrel.RunAsync(url);
        return 0;
    }
}
