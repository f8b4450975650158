using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>Opsmeter.Web run as its own process, the way the README runs it, for what only a real process shows.</summary>
internal sealed partial class AppProcess : IAsyncDisposable
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "Opsmeter.Web.dll");
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AppProcess(Process process) => this.process = process;

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
    public static async Task<(AppProcess App, Uri Address)> StartAsync(IDictionary<string, string?> environment)
    {
        var app = new AppProcess(Process.Start(Info(["--urls", "http://127.0.0.1:0"], environment))!);
        app.Capture();
        var address = await app.listening.Task.WaitAsync(TimeSpan.FromSeconds(90));
        return (app, address);
    }

    /// <summary>Runs a command (e.g. <c>apikey create …</c>) to its end and returns its exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(IDictionary<string, string?> environment, params string[] args)
    {
        using var process = Process.Start(Info(args, environment))!;
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

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await StopAsync();
        }

        process.Dispose();
    }

    private static ProcessStartInfo Info(IEnumerable<string> args, IDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("ConnectionStrings__Opsmeter");
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
