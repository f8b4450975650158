using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Opsmeter.Client;

/// <summary>
/// Records every call through a Microsoft.Extensions.AI <see cref="IChatClient"/> as an Opsmeter event: tokens from the
/// response's <see cref="UsageDetails"/> (for a stream, the usage content its updates carry), the model answered (else
/// the one asked for, else the client's default), the provider from <see cref="ChatClientMetadata"/>, the latency, and
/// on an exception <c>status: error</c> with the exception's type as <c>errorCode</c>, rethrown unchanged. What the caller
/// receives is never changed; recording is one <see cref="IOpsmeterClient.Track"/>, which does not wait.
/// </summary>
internal sealed class OpsmeterChatClient(IChatClient inner, IOpsmeterClient opsmeter, TimeProvider clock) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var started = clock.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception e)
        {
            Record(null, options, null, started, e);
            throw;
        }

        Record(response.ModelId, options, response.Usage, started, null);
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = clock.GetTimestamp();
        string? model = null;
        UsageDetails? usage = null;
        await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    break;
                }
            }
            catch (Exception e)
            {
                Record(model, options, usage, started, e);
                throw;
            }

            var update = updates.Current;
            model ??= update.ModelId;
            foreach (var content in update.Contents)
            {
                if (content is UsageContent counted)
                {
                    usage = counted.Details;
                }
            }

            yield return update;
        }

        Record(model, options, usage, started, null);
    }

    private void Record(string? answeredModel, ChatOptions? options, UsageDetails? usage, long started, Exception? error)
    {
        var metadata = InnerClient.GetService<ChatClientMetadata>();
        opsmeter.Track(new OpsmeterEvent
        {
            Provider = metadata?.ProviderName ?? "unknown",
            Model = answeredModel ?? options?.ModelId ?? metadata?.DefaultModelId ?? "unknown",
            InputTokens = usage?.InputTokenCount ?? 0,
            OutputTokens = usage?.OutputTokenCount ?? 0,
            CachedInputTokens = usage?.CachedInputTokenCount,
            ReasoningTokens = usage?.ReasoningTokenCount,
            LatencyMs = (long)clock.GetElapsedTime(started).TotalMilliseconds,
            Status = error is null ? "success" : "error",
            ErrorCode = error?.GetType().Name,
        });
    }
}
