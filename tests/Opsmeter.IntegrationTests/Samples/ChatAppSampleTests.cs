using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Samples.ChatApp;

namespace Opsmeter.IntegrationTests.Samples;

/// <summary>samples/Opsmeter.Samples.ChatApp against the real server: what its user reads, and its exit code.</summary>
[Collection(SharedApp.Name)]
public sealed class ChatAppSampleTests(OpsmeterApp app)
{
    [Fact]
    public async Task The_sample_shows_a_call_recorded_then_a_call_sent_to_the_fallback_model_once_the_budget_is_exceeded()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (output, error) = (new StringWriter(), new StringWriter());

        var code = await SampleRun.RunAsync(ws.Client.BaseAddress!, ws.Key, output, error, CancellationToken.None);

        Assert.True(code == 0, $"exit {code}: {error}\n{output}");
        var lines = output.ToString().Split(Environment.NewLine).Select(l => l.Trim()).ToList();
        // gpt-4o: 1,200 × 2.50 USD + 80 × 10 USD per million tokens; gpt-4o-mini: 1,200 × 0.15 + 80 × 0.60.
        Assert.Contains("recorded: gpt-4o, 1200 in / 80 out, $0.0038", lines);
        Assert.Contains("budget 'sample.chat daily' created: $0.0152 of $0.01 spent today, exceeded", lines);
        Assert.Contains("fallback: asked for gpt-4o, the call went to gpt-4o-mini", lines);
        Assert.Contains("recorded: gpt-4o-mini, 1200 in / 80 out, $0.000228", lines);
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public async Task A_refused_key_or_an_unreachable_server_ends_the_sample_with_a_plain_message()
    {
        var ws = await app.CreateWorkspaceAsync();
        var refused = await RunAsync(ws.Client.BaseAddress!, "om_unknown0_0123456789abcdefghijklmnopqrstuv");
        var ingestOnly = await RunAsync(ws.Client.BaseAddress!, (await app.CreateWorkspaceAsync("ingest")).Key);
        var nowhere = await RunAsync(new Uri("http://127.0.0.1:1/"), ws.Key);

        Assert.Equal((1, 1, 1), (refused.Code, ingestOnly.Code, nowhere.Code));
        Assert.StartsWith($"Opsmeter at {ws.Client.BaseAddress} refused the API key (401).", refused.Error);
        Assert.StartsWith("The API key may not list budgets (403).", ingestOnly.Error);
        Assert.StartsWith("Cannot reach Opsmeter at http://127.0.0.1:1/ (", nowhere.Error);
        Assert.All(new[] { refused, ingestOnly, nowhere }, run =>
        {
            Assert.Equal("", run.Output);
            Assert.DoesNotContain("   at ", run.Error); // a sentence, no stack trace
            Assert.Single(run.Error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        });
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(Uri baseUrl, string key)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = await SampleRun.RunAsync(baseUrl, key, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
