using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.Client;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Features.Budgets.BudgetTestKit;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

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

    private static (ServiceProvider Services, CapturingChatClient Fake) Pipeline(Uri? baseUrl, string key, Action<OpsmeterPolicyOptions>? policy = null,
        Action<IServiceCollection>? more = null)
    {
        var fake = new CapturingChatClient();
        var services = new ServiceCollection();
        more?.Invoke(services);
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
    public async Task Queue_without_time_to_wait_refuses_the_call_saying_when_to_retry()
    {
        var ws = await ExceededAsync("\"onExceeded\":\"queue\"");
        var (services, fake) = Pipeline(ws.Client.BaseAddress, ws.Key, p => p.MaxQueueWait = TimeSpan.Zero);
        await using var _ = services;

        var refused = await Assert.ThrowsAsync<OpsmeterPolicyException>(() => CallAsync(services, fake));

        // The monthly budget starts again at the next month: that is when the work may go.
        var untilNextMonth = new DateTimeOffset(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1) - DateTimeOffset.UtcNow;
        Assert.Equal("queue", refused.Decision.Action);
        Assert.InRange(refused.Decision.RetryAfterSeconds!.Value, untilNextMonth.TotalSeconds - 120, untilNextMonth.TotalSeconds + 1);
        Assert.Equal(0, fake.Calls);
    }

    [Fact]
    public async Task Queue_holds_the_call_and_lets_it_go_once_the_budget_allows_it()
    {
        var ws = await ExceededAsync("\"onExceeded\":\"queue\"");
        var budgetId = (await ws.Client.GetFromJsonAsync<JsonElement>("/v1/budgets"))[0].GetProperty("id").GetString();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var log = new QueueLog();
        var (services, fake) = Pipeline(ws.Client.BaseAddress, ws.Key, p => p.MaxQueueWait = TimeSpan.FromMinutes(5),
            s => s.AddSingleton<TimeProvider>(clock).AddLogging(l => l.AddProvider(log)));
        await using var _ = services;

        var call = CallAsync(services, fake);
        await log.Queued.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, fake.Calls);
        var raised = await ws.Client.PutAsync($"/v1/budgets/{budgetId}",
            Json("""{"name":"e","scope":{"dimension":"endpointTag","value":"e"},"period":"monthly","limitUsd":100,"onExceeded":"queue"}"""));
        Assert.True(raised.IsSuccessStatusCode);
        clock.Advance(TimeSpan.FromSeconds(15)); // the answer's ttlSeconds: the wait ends and the policy is asked again

        await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, fake.Calls);
    }

    [Fact]
    public async Task A_queued_call_ends_with_the_callers_cancellation()
    {
        var ws = await ExceededAsync("\"onExceeded\":\"queue\"");
        var log = new QueueLog();
        var (services, fake) = Pipeline(ws.Client.BaseAddress, ws.Key, more: s => s.AddLogging(l => l.AddProvider(log)));
        await using var _ = services;
        using var cancel = new CancellationTokenSource();

        Task call;
        using (OpsmeterContext.Begin(endpointTag: "e"))
        {
            call = services.GetRequiredService<IChatClient>().GetResponseAsync("hello", cancellationToken: cancel.Token);
        }

        await log.Queued.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
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

    /// <summary>Tells when the middleware has started holding a call: its wait is counting by then.</summary>
    private sealed class QueueLog : ILoggerProvider, ILogger
    {
        public TaskCompletionSource Queued { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (formatter(state, exception).Contains("queues this call", StringComparison.Ordinal))
            {
                Queued.TrySetResult();
            }
        }

        public void Dispose()
        {
        }
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
