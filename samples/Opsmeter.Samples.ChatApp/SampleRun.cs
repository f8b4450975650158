using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Opsmeter.Client;

namespace Opsmeter.Samples.ChatApp;

/// <summary>
/// The sample: an app whose chat calls go through <c>UseOpsmeterPolicy()</c> and <c>UseOpsmeter()</c> to a fake provider.
/// It shows a call recorded and priced, then a budget exceeded and the next call sent to the budget's fallback model.
/// </summary>
internal static class SampleRun
{
    public const string EndpointTag = "sample.chat";
    public const string Model = "gpt-4o";
    public const string FallbackModel = "gpt-4o-mini";
    public const string BudgetName = "sample.chat daily";
    public const decimal LimitUsd = 0.01m;

    // The fake calls are recorded as test data, so they never count as real spend; DELETE /v1/ingest/test-data removes them.
    private const string DataMode = "test";
    private static readonly TimeSpan PolicyWait = TimeSpan.FromSeconds(60);

    /// <summary>Runs the sample against Opsmeter at <paramref name="baseUrl"/>; 0 when everything shown happened, else 1 with the reason on <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(Uri baseUrl, string apiKey, TextWriter output, TextWriter error, CancellationToken ct)
    {
        try
        {
            await RunStepsAsync(baseUrl, apiKey, output, ct);
            return 0;
        }
        catch (SampleFailure failure)
        {
            await error.WriteLineAsync(failure.Message);
            return 1;
        }
    }

    private static async Task RunStepsAsync(Uri baseUrl, string apiKey, TextWriter output, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        var api = new OpsmeterApi(http);
        await api.ListBudgetsAsync(ct); // Opsmeter answers, and takes the key, before anything else happens
        await output.WriteLineAsync($"Opsmeter at {baseUrl} accepts the key.");

        // What an app adds: the Opsmeter client, and both middlewares around its chat client.
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddOpsmeter(o =>
        {
            (o.BaseUrl, o.ApiKey, o.DataMode) = (baseUrl, apiKey, DataMode);
            o.Timeout = TimeSpan.FromSeconds(5); // the default 600 ms suits a request path; a one-off run may wait for a busy machine
        });
        builder.Services.AddChatClient(new FakeChatClient()).UseOpsmeterPolicy().UseOpsmeter();
        using var host = builder.Build();
        await host.StartAsync(ct);
        var chat = host.Services.GetRequiredService<IChatClient>();
        var opsmeter = host.Services.GetRequiredService<IOpsmeterClient>();

        await output.WriteLineAsync($"1. One chat call for endpoint '{EndpointTag}', asking for {Model}");
        var first = await CallAndReadBackAsync(chat, opsmeter, api, ct);
        await output.WriteLineAsync($"   recorded: {Describe(first)}");
        if (first.Model != Model)
        {
            await output.WriteLineAsync($"   (the budget '{BudgetName}' of an earlier run is already exceeded today, so even this call went to {first.Model})");
        }

        await output.WriteLineAsync($"2. Three more calls, then a budget of ${LimitUsd} a day for '{EndpointTag}' that falls back to {FallbackModel}");
        for (var i = 0; i < 3; i++)
        {
            await CallAsync(chat, ct);
        }

        await opsmeter.FlushAsync(ct);
        // Opsmeter evaluates a budget when it is saved (and every minute with the budgets:evaluate job), so the policy knows at once.
        var (budget, created) = await api.SaveBudgetAsync(new
        {
            name = BudgetName, scope = new { dimension = "endpointTag", value = EndpointTag }, period = "daily", limitUsd = LimitUsd,
            onExceeded = "fallback", fallbackModel = FallbackModel, dataModes = new[] { DataMode },
        }, BudgetName, ct);
        var state = await api.BudgetStateAsync(budget.Id, ct);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"   budget '{BudgetName}' {(created ? "created" : "updated")}: ${state.SpendUsd} of ${state.LimitUsd} spent today, {state.State}"));
        if (state.State != "exceeded")
        {
            throw new SampleFailure($"The budget '{BudgetName}' is {state.State}, not exceeded, after the calls: were they recorded?");
        }

        await output.WriteLineAsync("3. Waiting for this app's policy to say so (the client keeps each answer for its ttlSeconds)");
        var (decision, waited) = await WaitForFallbackAsync(opsmeter, ct);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"   policy: {decision.Action} to {decision.FallbackModel} after {waited.TotalSeconds:0.0} s ({string.Join(" ", decision.Reasons)})"));

        await output.WriteLineAsync($"4. One more call, asking for {Model}");
        var last = await CallAndReadBackAsync(chat, opsmeter, api, ct);
        if (last.Model != FallbackModel)
        {
            throw new SampleFailure($"The call went to {last.Model}, not to the fallback model {FallbackModel}.");
        }

        await output.WriteLineAsync($"   fallback: asked for {Model}, the call went to {last.Model}");
        await output.WriteLineAsync($"   recorded: {Describe(last)}");

        await host.StopAsync(ct);
        await output.WriteLineAsync($"Done. The sample's events are test data (dataMode={DataMode}); DELETE /v1/ingest/test-data removes them.");
    }

    /// <summary>One call asking for <see cref="Model"/>, sent to Opsmeter at once, and read back as Opsmeter stored and priced it.</summary>
    private static async Task<StoredEvent> CallAndReadBackAsync(IChatClient chat, IOpsmeterClient opsmeter, OpsmeterApi api, CancellationToken ct)
    {
        var from = DateTimeOffset.UtcNow;
        await CallAsync(chat, ct);
        await opsmeter.FlushAsync(ct); // an app never needs this; the sample wants to read the event back now
        // The event's time is this machine's; the window's end leaves room for a server clock behind it.
        return await api.LatestEventAsync(EndpointTag, DataMode, from, DateTimeOffset.UtcNow.AddMinutes(5), ct)
            ?? throw new SampleFailure("Opsmeter did not store the call: the key may lack the ingest scope (the client logs why it gave up).");
    }

    /// <summary>A call as an app's request handler makes it: inside the context that attributes it, asking for <see cref="Model"/>.</summary>
    private static async Task CallAsync(IChatClient chat, CancellationToken ct)
    {
        using var _ = OpsmeterContext.Begin(endpointTag: EndpointTag);
        await chat.GetResponseAsync("Hello", new ChatOptions { ModelId = Model }, ct);
    }

    /// <summary>Asks the policy as the pipeline does (same context, same model) until it answers fallback; bounded.</summary>
    private static async Task<(PolicyDecision Decision, TimeSpan Waited)> WaitForFallbackAsync(IOpsmeterClient opsmeter, CancellationToken ct)
    {
        using var _ = OpsmeterContext.Begin(endpointTag: EndpointTag);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            string answer;
            try
            {
                var decision = await opsmeter.GetPolicyAsync(new PolicyQuery(Model: Model), ct);
                if (decision.Action == "fallback")
                {
                    return (decision, waited.Elapsed);
                }

                answer = $"answers '{decision.Action}'";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                answer = $"cannot be asked ({e.Message})";
            }

            if (waited.Elapsed > PolicyWait)
            {
                throw new SampleFailure($"The policy still {answer} after {PolicyWait.TotalSeconds:0} s, not 'fallback'.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    private static string Describe(StoredEvent e) =>
        string.Create(CultureInfo.InvariantCulture, $"{e.Model}, {e.InputTokens} in / {e.OutputTokens} out, ${e.CostUsd}");
}
