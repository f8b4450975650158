using System.Text.Json;
using System.Text.Json.Serialization;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// One LLM call as an app reports it (docs/api.md "Ingest one call"). Everything is nullable so that a
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
    public long? CacheWrite1hInputTokens { get; set; }
    public string? ServiceTier { get; set; }
    public long? ReasoningTokens { get; set; }
    public long? LatencyMs { get; set; }
    public string? Status { get; set; }
    [JsonConverter(typeof(ScalarTextConverter))]
    public string? ErrorCode { get; set; }
    public string? DataMode { get; set; }
    public string? Environment { get; set; }
    public DateTimeOffset? OccurredAt { get; set; }

    /// <summary>Alias of <see cref="OccurredAt"/> used by Opsmeter.io clients.</summary>
    public DateTimeOffset? CreatedAt { get; set; }

    public decimal? CostUsd { get; set; }

    /// <summary><c>client</c> (default) or <c>provider</c>: the provider or gateway billed <see cref="CostUsd"/>, which then is the cost.</summary>
    public string? CostReportedBy { get; set; }
    public Dictionary<string, JsonElement>? Metadata { get; set; }

    [JsonIgnore]
    public DateTimeOffset? When => OccurredAt ?? CreatedAt;

    /// <summary>The event's tenant: <see cref="TenantId"/>, else <c>metadata.tenantId</c>, where Opsmeter.io SDKs send it.</summary>
    [JsonIgnore]
    public string? Tenant => string.IsNullOrWhiteSpace(TenantId) ? MetadataText(TenantMetadataKey) ?? TenantId : TenantId;

    /// <summary>The event's feature: <see cref="FeatureTag"/>, else <c>metadata.feature</c>, where Opsmeter.io SDKs send it.</summary>
    [JsonIgnore]
    public string? Feature => string.IsNullOrWhiteSpace(FeatureTag) ? MetadataText(FeatureMetadataKey) ?? FeatureTag : FeatureTag;

    public const string TenantMetadataKey = "tenantId";
    public const string FeatureMetadataKey = "feature";

    /// <summary>
    /// A metadata value that can stand for a text field: a non-blank string, or a number as written. A string that is not
    /// valid text (an escaped lone surrogate) stands for nothing; the validator reports it.
    /// </summary>
    public string? MetadataText(string key) =>
        Metadata is not null && Metadata.TryGetValue(key, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => TryGetText(value) is { } text && !string.IsNullOrWhiteSpace(text) ? text : null,
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    /// <summary>The string of a JSON string value, or null when it cannot be one (JSON may escape a lone surrogate).</summary>
    public static string? TryGetText(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>docs/api.md "Ingest many calls": each event is read on its own, so one malformed event rejects only itself.</summary>
public sealed record IngestBatchRequest(IReadOnlyList<IngestBatchItem>? Events);
