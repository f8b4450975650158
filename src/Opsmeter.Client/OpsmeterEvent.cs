namespace Opsmeter.Client;

/// <summary>
/// One LLM call's usage (the fields of Opsmeter's <c>POST /v1/ingest</c>). What is left null is filled in when tracked:
/// the attribution from <see cref="OpsmeterContext"/>, a new <see cref="ExternalRequestId"/>, the time, and the
/// environment and data mode of <see cref="OpsmeterOptions"/>.
/// </summary>
public sealed record OpsmeterEvent
{
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }
    public string? ExternalRequestId { get; init; }
    public string? EndpointTag { get; init; }
    public string? PromptVersion { get; init; }
    public string? UserId { get; init; }
    public string? TenantId { get; init; }
    public long? CachedInputTokens { get; init; }
    public long? CacheWriteInputTokens { get; init; }

    /// <summary>The 1-hour cache writes among <see cref="CacheWriteInputTokens"/> (Anthropic and Bedrock price them apart).</summary>
    public long? CacheWrite1hInputTokens { get; init; }

    public long? ReasoningTokens { get; init; }
    public long? LatencyMs { get; init; }

    /// <summary><c>success</c> or <c>error</c>.</summary>
    public string Status { get; init; } = "success";

    public string? ErrorCode { get; init; }
    public string? DataMode { get; init; }
    public string? Environment { get; init; }
    public DateTimeOffset? OccurredAt { get; init; }

    /// <summary>A cost the app computed; kept beside the server's.</summary>
    public decimal? CostUsd { get; init; }

    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
