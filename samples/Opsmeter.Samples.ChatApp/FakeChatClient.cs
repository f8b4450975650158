using Microsoft.Extensions.AI;

namespace Opsmeter.Samples.ChatApp;

/// <summary>
/// Stands in for a provider's chat client, without network: every answer reports 1,200 input and 80 output tokens, and
/// the model that was asked for, as a real provider reports the model that actually answered.
/// </summary>
internal sealed class FakeChatClient : IChatClient
{
    public const string DefaultModel = "gpt-4o";
    public const int InputTokens = 1200;
    public const int OutputTokens = 80;

    private static readonly ChatClientMetadata Metadata = new("openai", defaultModelId: DefaultModel);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Here is a short, friendly answer."))
        {
            ModelId = options?.ModelId ?? DefaultModel,
            Usage = new UsageDetails { InputTokenCount = InputTokens, OutputTokenCount = OutputTokens, TotalTokenCount = InputTokens + OutputTokens },
        });

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The sample makes GetResponseAsync calls only.");

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata) ? Metadata : null;

    public void Dispose()
    {
    }
}
