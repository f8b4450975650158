using System.Text.Json;
using System.Text.Json.Serialization;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// One LLM call as an app reports it (api.md "Ingest one call"). Everything is nullable so that a
/// missing field is a validation error naming the field, not a parse failure; numbers are
/// <see cref="long"/> so an out-of-range count is a range error, not an overflow. Settable rather than
/// init-only: System.Text.Json reads init-only properties through a boxed argument array, about 40 % slower.
/// </summary>
public sealed record IngestEventRequest
{
    public string? ExternalRequestId { get; set; }
    public string? Provider { get; set; }
    public string? Model { get; set; }
    public string? EndpointTag { get; set; }
    public string? PromptVersion { get; set; }
    public string? UserId { get; set; }
    public string? TenantId { get; set; }
    public string? FeatureTag { get; set; }
    public long? InputTokens { get; set; }
    public long? OutputTokens { get; set; }
    public long? TotalTokens { get; set; }
    public long? CachedInputTokens { get; set; }
    public long? CacheWriteInputTokens { get; set; }
    public long? ReasoningTokens { get; set; }
    public long? LatencyMs { get; set; }
    public string? Status { get; set; }
    public string? ErrorCode { get; set; }
    public string? DataMode { get; set; }
    public string? Environment { get; set; }
    public DateTimeOffset? OccurredAt { get; set; }

    /// <summary>Alias of <see cref="OccurredAt"/> used by Opsmeter.io clients.</summary>
    public DateTimeOffset? CreatedAt { get; set; }

    public decimal? CostUsd { get; set; }
    public Dictionary<string, JsonElement>? Metadata { get; set; }

    [JsonIgnore]
    public DateTimeOffset? When => OccurredAt ?? CreatedAt;
}

/// <summary>api.md "Ingest many calls": each event is read on its own, so one malformed event rejects only itself.</summary>
public sealed record IngestBatchRequest(IReadOnlyList<IngestBatchItem>? Events);
