using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Opsmeter.LoadTest;

/// <summary>
/// Opsmeter.Web (or this program's bare server) run as its own process, the way the README runs it:
/// for the benchmark, the durability check and the tests that only a real process can answer.
/// </summary>
internal sealed partial class OpsmeterProcess : IAsyncDisposable
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "Opsmeter.Web.dll");
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OpsmeterProcess(Process process) => this.process = process;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts the server and waits until it logs the address it listens on.</summary>
    public static Task<(OpsmeterProcess App, Uri Address)> StartAsync(IDictionary<string, string?> environment) =>
        StartAsync(Dll, ["--urls", "http://127.0.0.1:0"], environment);

    /// <summary>Starts another .NET program of this folder (e.g. the bare server) and waits for its address.</summary>
    public static async Task<(OpsmeterProcess App, Uri Address)> StartAsync(string dll, IEnumerable<string> args, IDictionary<string, string?> environment)
    {
        var app = new OpsmeterProcess(Process.Start(Info(dll, args, environment))!);
        app.Capture();
        var address = await app.listening.Task.WaitAsync(TimeSpan.FromSeconds(90));
        return (app, address);
    }

    /// <summary>Runs a command (e.g. <c>apikey create …</c>) to its end and returns its exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(IDictionary<string, string?> environment, params string[] args)
    {
        using var process = Process.Start(Info(Dll, args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Asks the server to stop as an operator's Ctrl+C or a service manager would (SIGTERM) and waits for it.</summary>
    public async Task StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public int ExitCode => process.ExitCode;

    /// <summary>The server's resident memory (its working set) now.</summary>
    public long WorkingSetBytes
    {
        get
        {
            process.Refresh();
            return process.HasExited ? 0 : process.WorkingSet64;
        }
    }

    /// <summary>Ends the process at once, as a crash or <c>kill -9</c> would: nothing is flushed, nothing is stopped cleanly.</summary>
    public async Task KillAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await StopAsync();
        }

        process.Dispose();
    }

    private static ProcessStartInfo Info(string dll, IEnumerable<string> args, IDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("ConnectionStrings__Opsmeter");
        // The load generators send far more than one app would with one key: the per-key limit stays off unless a run sets it.
        info.Environment["Opsmeter__RateLimits__PerKeyPerSecond"] = "0";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return info;
    }

    private void Capture()
    {
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"Opsmeter exited early:\n{Output}"));
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }

        if (ListeningOn().Match(line) is { Success: true } match)
        {
            listening.TrySetResult(new Uri(match.Groups["url"].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://\S+)")]
    private static partial Regex ListeningOn();
}
