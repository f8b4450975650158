using System.Globalization;
using System.Net.Http.Json;
using System.Text;

namespace Opsmeter.LoadTest;

/// <summary>
/// <c>GET /v1/policy</c> under load (issue target: at least 20,000 requests/s on the development machine),
/// against a bare Kestrel GET of the same kind in the same run. The workspace gets <c>--budgets</c> budgets
/// on its endpoints, with spend that puts some of them in warning and exceeded, so every request walks them.
/// </summary>
internal static class PolicyBenchmark
{
    private const string ApiKey = "om_benchmark_policy_0123456789abcdefghij";

    public static async Task<int> RunAsync(Options options, int budgets)
    {
        await using var database = await BenchDatabase.CreateAsync(options.Connection, durable: true);
        var (opsmeter, opsmeterUrl) = await OpsmeterProcess.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = database.ConnectionString,
            ["Opsmeter__Bootstrap__ApiKey"] = ApiKey,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        });
        await using var _ = opsmeter;
        var (bare, bareUrl) = await BareKestrel.StartProcessAsync();
        await using var __ = bare;

        using (var client = new HttpClient { BaseAddress = opsmeterUrl })
        {
            client.DefaultRequestHeaders.Add("X-API-Key", ApiKey);
            for (var i = 0; i < budgets; i++)
            {
                var cost = (i % 3) switch { 0 => 2m, 1 => 0.9m, _ => 0.1m }; // exceeded, warning, ok against a 1 USD limit
                (await client.PostAsync("/v1/ingest", JsonContent.Create(new
                {
                    provider = "openai", model = "house-model", endpointTag = $"endpoint-{i}", inputTokens = 1, outputTokens = 1, status = "success", costUsd = cost,
                }))).EnsureSuccessStatusCode();
                (await client.PostAsync("/v1/budgets", JsonContent.Create(new
                {
                    name = $"budget {i}", scope = new { dimension = "endpointTag", value = $"endpoint-{i}" }, limitUsd = 1m,
                    onExceeded = i % 2 == 0 ? "clamp" : "block", maxOutputTokens = 256,
                }))).EnsureSuccessStatusCode();
            }
        }

        Console.Error.WriteLine($"Opsmeter at {opsmeterUrl} with {budgets} budgets, bare Kestrel at {bareUrl}");
        var policy = new LoadDriver(opsmeterUrl, ApiKey, options.Concurrency);
        var bareDriver = new LoadDriver(bareUrl, null, options.Concurrency);
        const string Query = "/v1/policy?endpointTag=endpoint-0&promptVersion=v1&tenantId=t-1&userId=u-1&model=gpt-4o";
        await bareDriver.RunGetAsync("warm-up bare", "/policy", options.Warmup, () => bare.WorkingSetBytes);
        await policy.RunGetAsync("warm-up policy", Query, options.Warmup, () => opsmeter.WorkingSetBytes);
        var ceiling = await bareDriver.RunGetAsync("bare Kestrel GET", "/policy", options.Duration, () => bare.WorkingSetBytes);
        var result = await policy.RunGetAsync("Opsmeter policy", Query, options.Duration, () => opsmeter.WorkingSetBytes);

        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Run {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {MachineInfo.Describe()}; {budgets} budgets in the workspace.");
        text.AppendLine(c, $"{options.Duration.TotalSeconds:0} s per phase after {options.Warmup.TotalSeconds:0} s warm-up, {options.Concurrency} connections.");
        text.AppendLine();
        text.AppendLine("| phase | requests/s | p50 ms | p95 ms | p99 ms | failed requests | server peak MB | ratio to ceiling |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (r, ratio) in new[] { (ceiling, "ceiling"), (result, (result.EventsPerSecond / ceiling.EventsPerSecond).ToString("0.00", c)) })
        {
            text.AppendLine(c, $"| {r.Name} | {r.EventsPerSecond:N0} | {r.P50Ms:0.0} | {r.P95Ms:0.0} | {r.P99Ms:0.0} | {r.Failures} | " +
                               $"{(r.PeakServerBytes is { } b ? (b / 1048576.0).ToString("0", c) : "–")} | {ratio} |");
        }

        Console.WriteLine(text);
        if (options.Markdown is not null)
        {
            await File.WriteAllTextAsync(options.Markdown, text.ToString());
        }

        return result.Failures == 0 ? 0 : 1;
    }
}
