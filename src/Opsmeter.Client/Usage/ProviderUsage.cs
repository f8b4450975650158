using System.Text.Json;
using static Opsmeter.Client.Usage.UsageJson;

namespace Opsmeter.Client.Usage;

/// <summary>
/// Usage events from raw provider response bodies, for apps that call providers without Microsoft.Extensions.AI. Counts
/// come out in Opsmeter's terms whatever the provider's: <see cref="OpsmeterEvent.InputTokens"/> includes cache reads and
/// cache writes, <see cref="OpsmeterEvent.OutputTokens"/> includes reasoning. The event carries the provider (as the price
/// catalog names it), the model, the counts and the response id as <see cref="OpsmeterEvent.ExternalRequestId"/>; add the
/// rest with <c>with { LatencyMs = … }</c> and pass it to <see cref="IOpsmeterClient.Track"/>. A count the provider does
/// not report is left null. Every method throws <see cref="ArgumentException"/> when the body has no usage (an error
/// body, a streaming chunk other than the one that reports usage) or no model; the <see cref="string"/> overloads also
/// throw <see cref="JsonException"/> for text that is not JSON.
/// </summary>
public static class ProviderUsage
{
    private const string OpenAiShape = "an OpenAI Chat Completions or Embeddings response";

    /// <summary>
    /// OpenAI Chat Completions: a response, or the last chunk of a stream asked with <c>stream_options.include_usage</c>
    /// (its <c>choices</c> are empty). Cached tokens and reasoning tokens are already parts of the prompt and completion counts.
    /// </summary>
    public static OpsmeterEvent FromOpenAiChatCompletion(JsonElement body) => ChatCompletion(body, "openai", OpenAiShape);

    /// <inheritdoc cref="FromOpenAiChatCompletion(JsonElement)"/>
    public static OpsmeterEvent FromOpenAiChatCompletion(string json) => Parse(json, FromOpenAiChatCompletion);

    /// <summary>OpenAI Embeddings: <c>usage.prompt_tokens</c> is the input; there is no output and no response id.</summary>
    public static OpsmeterEvent FromOpenAiEmbeddings(JsonElement body) => ChatCompletion(body, "openai", OpenAiShape);

    /// <inheritdoc cref="FromOpenAiEmbeddings(JsonElement)"/>
    public static OpsmeterEvent FromOpenAiEmbeddings(string json) => Parse(json, FromOpenAiEmbeddings);

    /// <summary>OpenAI Responses API (<c>resp_…</c>): <c>input_tokens</c> includes cached tokens, <c>output_tokens</c> reasoning.</summary>
    public static OpsmeterEvent FromOpenAiResponse(JsonElement body)
    {
        const string shape = "an OpenAI Responses response";
        var usage = RequiredObject(body, "usage", shape);
        var input = Object(usage, "input_tokens_details");
        return new OpsmeterEvent
        {
            Provider = "openai",
            Model = RequiredText(body, "model", shape),
            ExternalRequestId = Text(body, "id"),
            InputTokens = RequiredCount(usage, "input_tokens", shape),
            OutputTokens = Count(usage, "output_tokens") ?? 0,
            CachedInputTokens = Count(input, "cached_tokens"),
            CacheWriteInputTokens = Count(input, "cache_write_tokens"),
            ReasoningTokens = Count(Object(usage, "output_tokens_details"), "reasoning_tokens"),
        };
    }

    /// <inheritdoc cref="FromOpenAiResponse(JsonElement)"/>
    public static OpsmeterEvent FromOpenAiResponse(string json) => Parse(json, FromOpenAiResponse);

    /// <summary>
    /// Azure OpenAI Chat Completions (OpenAI's shape). The body's <c>model</c> is the underlying model and version, which is
    /// what is priced; the deployment name is only in the URL, so pass it as <paramref name="deployment"/> to keep it in
    /// <see cref="OpsmeterEvent.Metadata"/> (<c>azureDeployment</c>).
    /// </summary>
    public static OpsmeterEvent FromAzureOpenAiChatCompletion(JsonElement body, string? deployment = null)
    {
        var usage = ChatCompletion(body, "azure-openai", "an Azure OpenAI Chat Completions response");
        return string.IsNullOrWhiteSpace(deployment)
            ? usage
            : usage with { Metadata = new Dictionary<string, string> { ["azureDeployment"] = deployment } };
    }

    /// <inheritdoc cref="FromAzureOpenAiChatCompletion(JsonElement, string?)"/>
    public static OpsmeterEvent FromAzureOpenAiChatCompletion(string json, string? deployment = null) =>
        Parse(json, body => FromAzureOpenAiChatCompletion(body, deployment));

    /// <summary>
    /// Anthropic Messages. Its <c>input_tokens</c> excludes cache reads and writes, so the input is
    /// <c>input_tokens + cache_read_input_tokens + cache_creation_input_tokens</c>; the 1-hour writes are
    /// <c>cache_creation.ephemeral_1h_input_tokens</c>. <c>output_tokens_details.thinking_tokens</c>, where sent, are the
    /// reasoning tokens (already inside <c>output_tokens</c>).
    /// </summary>
    public static OpsmeterEvent FromAnthropicMessage(JsonElement body)
    {
        const string shape = "an Anthropic Messages response";
        var usage = RequiredObject(body, "usage", shape);
        var uncached = RequiredCount(usage, "input_tokens", shape);
        var read = Count(usage, "cache_read_input_tokens");
        var split = Object(usage, "cache_creation");
        var oneHour = Count(split, "ephemeral_1h_input_tokens");
        var write = Count(usage, "cache_creation_input_tokens") ?? Sum(Count(split, "ephemeral_5m_input_tokens"), oneHour);
        return new OpsmeterEvent
        {
            Provider = "anthropic",
            Model = RequiredText(body, "model", shape),
            ExternalRequestId = Text(body, "id"),
            InputTokens = uncached + (read ?? 0) + (write ?? 0),
            OutputTokens = RequiredCount(usage, "output_tokens", shape),
            CachedInputTokens = read,
            CacheWriteInputTokens = write,
            CacheWrite1hInputTokens = oneHour,
            ReasoningTokens = Count(Object(usage, "output_tokens_details"), "thinking_tokens"),
        };
    }

    /// <inheritdoc cref="FromAnthropicMessage(JsonElement)"/>
    public static OpsmeterEvent FromAnthropicMessage(string json) => Parse(json, FromAnthropicMessage);

    /// <summary>
    /// Google Gemini <c>generateContent</c> (or the last <c>streamGenerateContent</c> chunk), REST JSON. <c>promptTokenCount</c>
    /// (plus <c>toolUsePromptTokenCount</c>) is the input and includes <c>cachedContentTokenCount</c>. Thoughts are billed as
    /// output and reported beside the candidates, so the output is <c>candidatesTokenCount + thoughtsTokenCount</c>; when
    /// <c>totalTokenCount</c> leaves no room for them beside the candidates, the candidates already hold them. Model:
    /// <c>modelVersion</c>; id: <c>responseId</c>.
    /// </summary>
    public static OpsmeterEvent FromGeminiGenerateContent(JsonElement body)
    {
        const string shape = "a Gemini generateContent response";
        var usage = RequiredObject(body, "usageMetadata", shape);
        var input = RequiredCount(usage, "promptTokenCount", shape) + (Count(usage, "toolUsePromptTokenCount") ?? 0);
        var candidates = Count(usage, "candidatesTokenCount") ?? 0;
        var thoughts = Count(usage, "thoughtsTokenCount");
        var thoughtsInsideCandidates = thoughts > 0 && Count(usage, "totalTokenCount") == input + candidates;
        return new OpsmeterEvent
        {
            Provider = "google",
            Model = RequiredText(body, "modelVersion", shape),
            ExternalRequestId = Text(body, "responseId"),
            InputTokens = input,
            OutputTokens = thoughtsInsideCandidates ? candidates : candidates + (thoughts ?? 0),
            CachedInputTokens = Count(usage, "cachedContentTokenCount"),
            ReasoningTokens = thoughts,
        };
    }

    /// <inheritdoc cref="FromGeminiGenerateContent(JsonElement)"/>
    public static OpsmeterEvent FromGeminiGenerateContent(string json) => Parse(json, FromGeminiGenerateContent);

    /// <summary>
    /// AWS Bedrock <c>Converse</c>, or the <c>metadata</c> event that ends a <c>ConverseStream</c> (usage under
    /// <c>metadata.usage</c>). <c>inputTokens</c> excludes cache reads and writes, so the input is
    /// <c>inputTokens + cacheReadInputTokens + cacheWriteInputTokens</c>; the 1-hour writes are the <c>cacheDetails</c>
    /// with <c>ttl</c> <c>1h</c>; <c>metrics.latencyMs</c> is the latency. Neither the model nor the request id is in the
    /// body: pass the <paramref name="modelId"/> of the request path and, if wanted, the <c>x-amzn-RequestId</c> header.
    /// </summary>
    public static OpsmeterEvent FromBedrockConverse(JsonElement body, string modelId, string? requestId = null)
    {
        const string shape = "a Bedrock Converse response or ConverseStream metadata event";
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        var root = Object(body, "usage") is null ? Object(body, "metadata") ?? body : body;
        var usage = RequiredObject(root, "usage", shape);
        var read = Count(usage, "cacheReadInputTokens");
        var write = Count(usage, "cacheWriteInputTokens");
        return new OpsmeterEvent
        {
            Provider = "bedrock",
            Model = modelId,
            ExternalRequestId = string.IsNullOrWhiteSpace(requestId) ? null : requestId,
            InputTokens = RequiredCount(usage, "inputTokens", shape) + (read ?? 0) + (write ?? 0),
            OutputTokens = RequiredCount(usage, "outputTokens", shape),
            CachedInputTokens = read,
            CacheWriteInputTokens = write,
            CacheWrite1hInputTokens = OneHourWrites(usage),
            LatencyMs = Count(Object(root, "metrics"), "latencyMs"),
        };
    }

    /// <inheritdoc cref="FromBedrockConverse(JsonElement, string, string?)"/>
    public static OpsmeterEvent FromBedrockConverse(string json, string modelId, string? requestId = null) =>
        Parse(json, body => FromBedrockConverse(body, modelId, requestId));

    /// <summary>Mistral Chat Completions (OpenAI's shape; <c>prompt_tokens_details.cached_tokens</c> where sent).</summary>
    public static OpsmeterEvent FromMistralChatCompletion(JsonElement body) => ChatCompletion(body, "mistral", "a Mistral chat completion");

    /// <inheritdoc cref="FromMistralChatCompletion(JsonElement)"/>
    public static OpsmeterEvent FromMistralChatCompletion(string json) => Parse(json, FromMistralChatCompletion);

    /// <summary>
    /// Cohere v2 Chat. Billed on <c>usage.billed_units</c> (<c>usage.tokens</c> are raw counts with template tokens, larger);
    /// <c>usage.cached_tokens</c> is the cached input, at most the billed input. The model is not in the body: pass the one
    /// the request named.
    /// </summary>
    public static OpsmeterEvent FromCohereChat(JsonElement body, string model)
    {
        const string shape = "a Cohere v2 chat response";
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var usage = RequiredObject(body, "usage", shape);
        var billed = RequiredObject(usage, "billed_units", shape);
        var input = Count(billed, "input_tokens") ?? 0;
        return new OpsmeterEvent
        {
            Provider = "cohere",
            Model = model,
            ExternalRequestId = Text(body, "id"),
            InputTokens = input,
            OutputTokens = Count(billed, "output_tokens") ?? 0,
            CachedInputTokens = Count(usage, "cached_tokens") is { } cached ? Math.Min(cached, input) : null,
        };
    }

    /// <inheritdoc cref="FromCohereChat(JsonElement, string)"/>
    public static OpsmeterEvent FromCohereChat(string json, string model) => Parse(json, body => FromCohereChat(body, model));

    /// <summary>Groq Chat Completions (OpenAI's shape; cached and reasoning details where sent).</summary>
    public static OpsmeterEvent FromGroqChatCompletion(JsonElement body) => ChatCompletion(body, "groq", "a Groq chat completion");

    /// <inheritdoc cref="FromGroqChatCompletion(JsonElement)"/>
    public static OpsmeterEvent FromGroqChatCompletion(string json) => Parse(json, FromGroqChatCompletion);

    /// <summary>
    /// DeepSeek Chat Completions (<c>deepseek-chat</c>, <c>deepseek-reasoner</c>). <c>prompt_tokens</c> is cache hits plus
    /// misses; the hits (<c>prompt_cache_hit_tokens</c>) are the cached input. DeepSeek reports no cache writes.
    /// </summary>
    public static OpsmeterEvent FromDeepSeekChatCompletion(JsonElement body)
    {
        var usage = ChatCompletion(body, "deepseek", "a DeepSeek chat completion");
        return usage with { CachedInputTokens = Count(Object(body, "usage"), "prompt_cache_hit_tokens") ?? usage.CachedInputTokens };
    }

    /// <inheritdoc cref="FromDeepSeekChatCompletion(JsonElement)"/>
    public static OpsmeterEvent FromDeepSeekChatCompletion(string json) => Parse(json, FromDeepSeekChatCompletion);

    /// <summary>The OpenAI Chat Completions usage shape that Azure, Mistral, Groq and DeepSeek share.</summary>
    private static OpsmeterEvent ChatCompletion(JsonElement body, string provider, string shape)
    {
        var usage = RequiredObject(body, "usage", shape);
        var prompt = Object(usage, "prompt_tokens_details");
        return new OpsmeterEvent
        {
            Provider = provider,
            Model = RequiredText(body, "model", shape),
            ExternalRequestId = Text(body, "id"),
            InputTokens = RequiredCount(usage, "prompt_tokens", shape),
            OutputTokens = Count(usage, "completion_tokens") ?? 0,
            CachedInputTokens = Count(prompt, "cached_tokens"),
            CacheWriteInputTokens = Count(prompt, "cache_write_tokens"),
            ReasoningTokens = Count(Object(usage, "completion_tokens_details"), "reasoning_tokens"),
        };
    }

    private static long? OneHourWrites(JsonElement usage)
    {
        if (!usage.TryGetProperty("cacheDetails", out var details) || details.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        return details.EnumerateArray().Where(d => Text(d, "ttl") == "1h").Sum(d => Count(d, "inputTokens") ?? 0);
    }
}
