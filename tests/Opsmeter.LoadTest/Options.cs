namespace Opsmeter.LoadTest;

/// <summary>Benchmark and durability settings; <c>--phases single|batch|all</c> runs part of the benchmark while tuning; <c>otlp</c> compares OTLP with batch ingest.</summary>
internal sealed record Options(TimeSpan Duration, int Concurrency, int BatchConcurrency, int BatchSize,
    string? Connection, string? Markdown, TimeSpan Warmup, string Phases, string? Keep, int? RollupIntervalSeconds)
{
    public static Options Parse(IReadOnlyList<string> args)
    {
        string? Value(string name) => Options.Value(args, name);

        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        return new Options(
            Duration: TimeSpan.FromSeconds(Int("--duration", Int("--seconds", 20))),
            Concurrency: Int("--concurrency", 64),
            BatchConcurrency: Int("--batch-concurrency", 4),
            BatchSize: Int("--batch-size", 1000),
            Connection: Value("--connection") ?? Environment.GetEnvironmentVariable("OPSMETER_BENCH_DB"),
            Markdown: Value("--markdown"),
            Warmup: TimeSpan.FromSeconds(Int("--warmup", 10)),
            Phases: Value("--phases") ?? "all",
            Keep: Value("--keep"),
            RollupIntervalSeconds: Value("--rollup-interval") is { } r ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : null);
    }

    public static long Long(IReadOnlyList<string> args, string name, long fallback) =>
        Value(args, name) is { } v ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>The word after <paramref name="name"/> in <paramref name="args"/>, or null.</summary>
    public static string? Value(IReadOnlyList<string> args, string name)
    {
        var i = args.ToList().IndexOf(name);
        return i >= 0 && i + 1 < args.Count ? args[i + 1] : null;
    }
}
