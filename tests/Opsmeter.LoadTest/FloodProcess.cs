using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Opsmeter.LoadTest;

/// <summary>
/// A noisy workspace's flood run by this program as its own process (<c>flood</c>), as a misbehaving app on another
/// host would be: its connections' continuations and collections then stay out of the thread pool and the heap of the
/// client that measures the quiet workspace. It still competes for the machine's cores, like every process of the
/// benchmark.
/// </summary>
internal static class FloodProcess
{
    private const string ResultPrefix = "flood-result ";

    /// <summary>Runs the flood in a child process and returns its phase result when it ends.</summary>
    public static async Task<PhaseResult> RunAsync(Uri url, string apiKey, string path, int eventsPerRequest, int concurrency, TimeSpan duration)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
            // Everything compiled optimized at first call, in the warm-up: with tiered compilation the flood's own re-JIT ran
            // beside the measured phase (perf sched, batch flood: its JIT thread 533 ms of CPU in 6 s, its requests 182 ms),
            // on the cores the server needs; a remote client's JIT costs the node nothing.
            Environment = { ["DOTNET_TieredCompilation"] = "0" },
        };
        var c = CultureInfo.InvariantCulture;
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Opsmeter.LoadTest.dll"), "flood", url.ToString(), apiKey, path,
                     eventsPerRequest.ToString(c), concurrency.ToString(c), duration.TotalSeconds.ToString(c) })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"The flood process (exit {process.ExitCode}) gave no result:\n{output}");
        return JsonSerializer.Deserialize<PhaseResult>(line[ResultPrefix.Length..])!;
    }

    /// <summary>The child's side: <c>flood URL KEY PATH EVENTS-PER-REQUEST CONCURRENCY SECONDS</c>.</summary>
    public static async Task<int> MainAsync(IReadOnlyList<string> args)
    {
        var c = CultureInfo.InvariantCulture;
        var driver = new LoadDriver(new Uri(args[0]), args[1], int.Parse(args[4], c));
        var result = await driver.RunAsync("noisy flood", args[2], int.Parse(args[3], c), TimeSpan.FromSeconds(double.Parse(args[5], c)), () => 0);
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));
        return 0;
    }
}
