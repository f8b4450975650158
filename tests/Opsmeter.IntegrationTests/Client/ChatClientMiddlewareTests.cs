using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.Client;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Client;

/// <summary><c>ChatClientBuilder.UseOpsmeter()</c> over a fake chat client (no network): what each call records, and that the caller sees no difference.</summary>
[Collection(SharedApp.Name)]
public sealed class ChatClientMiddlewareTests(OpsmeterApp app)
{
    private static readonly UsageDetails Usage = new() { InputTokenCount = 1200, OutputTokenCount = 300, CachedInputTokenCount = 1000, ReasoningTokenCount = 100 };

    [Fact]
    public async Task A_call_is_recorded_with_its_usage_model_provider_and_the_ambient_attribution()
    {
        var recorded = new RecordingClient();
        var fake = new FakeChatClient { Answer = new ChatResponse(new ChatMessage(ChatRole.Assistant, "hi")) { ModelId = "gpt-4o-mini-2024-07-18", Usage = Usage } };
        using var chat = new ChatClientBuilder(fake).UseOpsmeter(recorded).Build();

        ChatResponse answer;
        using (OpsmeterContext.Begin(endpointTag: "support.reply"))
        {
            answer = await chat.GetResponseAsync("hello");
        }

        Assert.Same(fake.Answer, answer);
        var usage = Assert.Single(recorded.Events);
        Assert.Equal(("openai", "gpt-4o-mini-2024-07-18", 1200L, 300L, 1000L, 100L, "success"),
            (usage.Provider, usage.Model, usage.InputTokens, usage.OutputTokens, usage.CachedInputTokens, usage.ReasoningTokens, usage.Status));
        Assert.Equal("support.reply", recorded.Attribution[0]?.EndpointTag);
    }

    [Fact]
    public async Task A_stream_is_passed_through_unchanged_and_recorded_from_its_usage_content()
    {
        var recorded = new RecordingClient();
        var fake = new FakeChatClient
        {
            Updates =
            [
                new ChatResponseUpdate(ChatRole.Assistant, "Hel") { ModelId = "gpt-4o" },
                new ChatResponseUpdate(ChatRole.Assistant, "lo"),
                new ChatResponseUpdate { Contents = [new UsageContent(Usage)] },
            ],
        };
        using var chat = new ChatClientBuilder(fake).UseOpsmeter(recorded).Build();

        var received = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("hello"))
        {
            received.Add(update);
        }

        Assert.Equal(fake.Updates, received);
        var usage = Assert.Single(recorded.Events);
        Assert.Equal(("gpt-4o", 1200L, 300L), (usage.Model, usage.InputTokens, usage.OutputTokens));
    }

    [Fact]
    public async Task A_throwing_call_is_recorded_as_an_error_and_the_exception_reaches_the_caller_unchanged()
    {
        var recorded = new RecordingClient();
        var failure = new TimeoutException("provider timed out");
        using var chat = new ChatClientBuilder(new FakeChatClient { Failure = failure }).UseOpsmeter(recorded).Build();

        var thrown = await Assert.ThrowsAsync<TimeoutException>(() => chat.GetResponseAsync("hello", new ChatOptions { ModelId = "gpt-4.1" }));

        Assert.Same(failure, thrown);
        var usage = Assert.Single(recorded.Events);
        Assert.Equal(("gpt-4.1", "error", "TimeoutException", 0L), (usage.Model, usage.Status, usage.ErrorCode, usage.InputTokens));
    }

    [Fact]
    public async Task Calls_through_the_middleware_reach_the_server_priced_and_attributed()
    {
        var ws = await app.CreateWorkspaceAsync("ingest");
        var services = new ServiceCollection();
        services.AddOpsmeter(o => (o.BaseUrl, o.ApiKey, o.Timeout) = (ws.Client.BaseAddress, ws.Key, TimeSpan.FromSeconds(10)));
        services.AddChatClient(new FakeChatClient { Answer = new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { ModelId = "gpt-4o-mini", Usage = Usage } })
            .UseOpsmeter();
        await using var provider = services.BuildServiceProvider();

        using (OpsmeterContext.Begin(endpointTag: "docs.qa", promptVersion: "v2", tenantId: "t9"))
        {
            await provider.GetRequiredService<IChatClient>().GetResponseAsync("hello");
        }

        await provider.GetRequiredService<IOpsmeterClient>().FlushAsync();
        var row = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id));
        Assert.Equal(("docs.qa", "v2", "t9", "priced", 1000L), (row.EndpointTag, row.PromptVersion, row.TenantId, row.CostStatus, row.CachedInputTokens));
    }

    /// <summary>Captures what would be sent, with the attribution in force when it was tracked.</summary>
    private sealed class RecordingClient : IOpsmeterClient
    {
        public List<OpsmeterEvent> Events { get; } = [];

        public List<(string? EndpointTag, string? UserId)?> Attribution { get; } = [];

        public void Track(OpsmeterEvent usage)
        {
            Events.Add(usage);
            Attribution.Add(OpsmeterContext.Current is { } ambient ? (ambient.EndpointTag, ambient.UserId) : null);
        }

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<PolicyDecision> GetPolicyAsync(PolicyQuery query, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }

    private sealed class FakeChatClient : IChatClient
    {
        public ChatResponse? Answer { get; init; }

        public IReadOnlyList<ChatResponseUpdate> Updates { get; init; } = [];

        public Exception? Failure { get; init; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Failure is not null ? Task.FromException<ChatResponse>(Failure) : Task.FromResult(Answer!);

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var update in Updates)
            {
                await Task.Yield();
                yield return update;
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) =>
            serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("openai", null, "gpt-4o-mini") : null;

        public void Dispose()
        {
        }
    }
}
