using System.Text.Json;
using System.Text.Json.Serialization;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// One LLM call as an app reports it (api.md "Ingest one call"). Everything is nullable so that a
/// missing field is a validation error naming the field, not a parse failure; numbers are
/// <see cref="long"/> so an out-of-range count is a range error, not an overflow.
/// </summary>
public sealed record IngestEventRequest
{
    public string? ExternalRequestId { get; init; }
    public string? Provider { get; init; }
    public string? Model { get; init; }
    public string? EndpointTag { get; init; }
    public string? PromptVersion { get; init; }
    public string? UserId { get; init; }
    public string? TenantId { get; init; }
    public string? FeatureTag { get; init; }
    public long? InputTokens { get; init; }
    public long? OutputTokens { get; init; }
    public long? TotalTokens { get; init; }
    public long? CachedInputTokens { get; init; }
    public long? CacheWriteInputTokens { get; init; }
    public long? ReasoningTokens { get; init; }
    public long? LatencyMs { get; init; }
    public string? Status { get; init; }
    public string? ErrorCode { get; init; }
    public string? DataMode { get; init; }
    public string? Environment { get; init; }
    public DateTimeOffset? OccurredAt { get; init; }

    /// <summary>Alias of <see cref="OccurredAt"/> used by Opsmeter.io clients.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    public decimal? CostUsd { get; init; }
    public Dictionary<string, JsonElement>? Metadata { get; init; }

    [JsonIgnore]
    public DateTimeOffset? When => OccurredAt ?? CreatedAt;
}

/// <summary>api.md "Ingest many calls": events stay raw JSON until each is read on its own, so one malformed event rejects only itself.</summary>
public sealed record IngestBatchRequest(IReadOnlyList<JsonElement>? Events);
