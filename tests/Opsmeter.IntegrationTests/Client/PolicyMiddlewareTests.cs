using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.Client;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;

namespace Opsmeter.IntegrationTests.Client;

/// <summary><c>UseOpsmeterPolicy()</c> against real, exceeded budgets: each action applied to the call before it is made.</summary>
[Collection(SharedApp.Name)]
public sealed class PolicyMiddlewareTests(OpsmeterApp app)
{
    /// <summary>A workspace whose endpoint "e" spent 5 USD this month against a 1 USD budget with <paramref name="action"/>.</summary>
    private async Task<TestWorkspace> ExceededAsync(string action)
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestCostAsync(ws, 5m, DateTimeOffset.UtcNow, endpointTag: "e");
        await CreateBudgetAsync(ws, $$"""{"name":"e","scope":{"dimension":"endpointTag","value":"e"},"period":"monthly","limitUsd":1,{{action}}}""");
        return ws;
    }

    private static (ServiceProvider Services, CapturingChatClient Fake) Pipeline(Uri? baseUrl, string key, Action<OpsmeterPolicyOptions>? policy = null)
    {
        var fake = new CapturingChatClient();
        var services = new ServiceCollection();
        services.AddOpsmeter(o => (o.BaseUrl, o.ApiKey, o.Timeout) = (baseUrl, key, TimeSpan.FromSeconds(10)));
        services.AddChatClient(fake).UseOpsmeterPolicy(policy);
        return (services.BuildServiceProvider(), fake);
    }

    private static async Task<ChatOptions?> CallAsync(ServiceProvider services, CapturingChatClient fake, ChatOptions? options = null)
    {
        using (OpsmeterContext.Begin(endpointTag: "e"))
        {
            await services.GetRequiredService<IChatClient>().GetResponseAsync("hello", options);
        }

        return fake.Received;
    }

    [Fact]
    public async Task Clamp_lowers_max_output_tokens_and_leaves_the_callers_options_alone()
    {
        var ws = await ExceededAsync("\"onExceeded\":\"clamp\",\"maxOutputTokens\":256");
        var (services, fake) = Pipeline(ws.Client.BaseAddress, ws.Key);
        await using var _ = services;
        var mine = new ChatOptions { ModelId = "gpt-4o", MaxOutputTokens = 4000 };

        var sent = await CallAsync(services, fake, mine);

        Assert.Equal((256, "gpt-4o"), (sent!.MaxOutputTokens, sent.ModelId));
        Assert.Equal(4000, mine.MaxOutputTokens);
    }

    [Fact]
    public async Task Fallback_switches_the_model()
    {
        var ws = await ExceededAsync("\"onExceeded\":\"fallback\",\"fallbackModel\":\"gpt-4o-mini\"");
        var (services, fake) = Pipeline(ws.Client.BaseAddress, ws.Key);
        await using var _ = services;

        Assert.Equal("gpt-4o-mini", (await CallAsync(services, fake, new ChatOptions { ModelId = "gpt-4o" }))!.ModelId);
    }

    [Fact]
    public async Task Block_refuses_the_call_with_the_decision()
    {
        var ws = await ExceededAsync("\"onExceeded\":\"block\"");
        var (services, fake) = Pipeline(ws.Client.BaseAddress, ws.Key);
        await using var _ = services;

        var refused = await Assert.ThrowsAsync<OpsmeterPolicyException>(() => CallAsync(services, fake));

        Assert.Equal("block", refused.Decision.Action);
        Assert.Equal(0, fake.Calls);
    }

    [Fact]
    public async Task Without_an_answer_the_call_proceeds_unless_the_pipeline_fails_closed()
    {
        var nowhere = new Uri("http://127.0.0.1:1/");
        var (open, openFake) = Pipeline(nowhere, "om_unreachable_0123456789abcdef");
        var (closed, closedFake) = Pipeline(nowhere, "om_unreachable_0123456789abcdef", p => p.FailClosed = true);
        await using var _ = open;
        await using var __ = closed;

        await CallAsync(open, openFake);
        await Assert.ThrowsAsync<OpsmeterPolicyException>(() => CallAsync(closed, closedFake));

        Assert.Equal((1, 0), (openFake.Calls, closedFake.Calls));
    }

    private sealed class CapturingChatClient : IChatClient
    {
        public ChatOptions? Received { get; private set; }

        public int Calls { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            (Received, Calls) = (options, Calls + 1);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
