using System.Globalization;
using System.Text;

namespace Opsmeter.LoadTest;

/// <summary>
/// <c>nodes</c>: ingest on one Opsmeter node against two nodes on the same database (issue 20), single events and
/// batches. With two nodes the same number of connections is split between them, so the ratio shows what a second
/// process adds (or costs) at equal load. On one small machine the nodes, the load generator and PostgreSQL share the
/// cores: the point is that nothing fails, not speed.
/// </summary>
internal static class NodesBenchmark
{
    private const string ApiKey = "om_nodesbench_0123456789abcdefghijklmn";

    public static async Task<int> RunAsync(Options options)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        var shapes = new (string Name, string Path, int Events, int Concurrency)[]
        {
            ("single", "/v1/ingest", 1, options.Concurrency),
            ("batch", "/v1/ingest/batch", options.BatchSize, options.BatchConcurrency),
        };
        var rows = new List<(string Shape, int Nodes, PhaseResult[] PerNode)>();
        foreach (var nodes in new[] { 1, 2 })
        {
            var started = await Task.WhenAll(Enumerable.Range(0, nodes).Select(_ => OpsmeterProcess.StartAsync(Environment(database.ConnectionString))));
            try
            {
                foreach (var (name, path, events, concurrency) in shapes)
                {
                    Console.Error.WriteLine($"  {nodes} node(s), {name}: warming up…");
                    await Task.WhenAll(started.Select(n => new LoadDriver(n.Address, ApiKey, Math.Max(1, concurrency / nodes))
                        .RunAsync("warm-up", path, events, options.Warmup, () => n.App.WorkingSetBytes)));
                    var perNode = await Task.WhenAll(started.Select((n, i) => new LoadDriver(n.Address, ApiKey, Math.Max(1, concurrency / nodes))
                        .RunAsync($"{name} node {i + 1}", path, events, options.Duration, () => n.App.WorkingSetBytes)));
                    rows.Add((name, nodes, perNode));
                }
            }
            finally
            {
                foreach (var (app, _) in started)
                {
                    await app.DisposeAsync();
                }
            }
        }

        var report = Report(options, database.Description, rows);
        Console.WriteLine(report);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, report);
        }

        return rows.Sum(r => r.PerNode.Sum(p => p.Failures)) == 0 ? 0 : 1;
    }

    private static Dictionary<string, string?> Environment(string connectionString) => new()
    {
        ["ConnectionStrings__Opsmeter"] = connectionString,
        ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
        ["Serilog__MinimumLevel__Default"] = "Warning",
    };

    private static string Report(Options options, string database, List<(string Shape, int Nodes, PhaseResult[] PerNode)> rows)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; PostgreSQL: {database}.");
        text.AppendLine(c, $"Single events on {options.Concurrency} connections, batches of {options.BatchSize} on {options.BatchConcurrency}; with two nodes " +
                           $"the connections are split between them. {options.Duration.TotalSeconds:0} s per phase after {options.Warmup.TotalSeconds:0} s warm-up.");
        text.AppendLine();
        text.AppendLine("| shape | nodes | events/s (sum) | p99 ms per node | failed requests | ratio to one node |");
        text.AppendLine("|---|---:|---:|---|---:|---:|");
        foreach (var (shape, nodes, perNode) in rows)
        {
            var rate = perNode.Sum(p => p.EventsPerSecond);
            var one = rows.First(r => r.Shape == shape && r.Nodes == 1).PerNode.Sum(p => p.EventsPerSecond);
            text.AppendLine(c,
                $"| {shape} | {nodes} | {rate:N0} | {string.Join(" / ", perNode.Select(p => p.P99Ms.ToString("0.0", c)))} | " +
                $"{perNode.Sum(p => p.Failures)} | {rate / one:0.00} |");
        }

        return text.ToString();
    }
}
