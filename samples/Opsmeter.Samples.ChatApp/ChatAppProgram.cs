namespace Opsmeter.Samples.ChatApp;

/// <summary>
/// <code>
/// dotnet run --project samples/Opsmeter.Samples.ChatApp -- [URL] [API-KEY]
/// </code>
/// URL defaults to <c>OPSMETER_URL</c>, else http://localhost:5000; the key to <c>OPSMETER_API_KEY</c>. The key needs the
/// ingest, read and admin scopes (the sample creates a budget): the one set in <c>Opsmeter__Bootstrap__ApiKey</c> has them.
/// A named class rather than top-level statements, so that the tests can reference this program and Opsmeter.Web.
/// </summary>
internal static class ChatAppProgram
{
    public static async Task<int> Main(string[] args)
    {
        var url = args.ElementAtOrDefault(0) ?? Environment.GetEnvironmentVariable("OPSMETER_URL") ?? "http://localhost:5000";
        var key = args.ElementAtOrDefault(1) ?? Environment.GetEnvironmentVariable("OPSMETER_API_KEY");
        if (args.Length > 2 || args.FirstOrDefault() is "-h" or "--help" || string.IsNullOrWhiteSpace(key)
            || !Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            await Console.Error.WriteLineAsync("""
                Usage: dotnet run --project samples/Opsmeter.Samples.ChatApp -- [URL] [API-KEY]
                  URL      Opsmeter's address; else OPSMETER_URL, else http://localhost:5000
                  API-KEY  a key with the ingest, read and admin scopes; else OPSMETER_API_KEY
                """);
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            return await SampleRun.RunAsync(baseUrl, key, Console.Out, Console.Error, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Stopped.");
            return 130;
        }
    }
}
