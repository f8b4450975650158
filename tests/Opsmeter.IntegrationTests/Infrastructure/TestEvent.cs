using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>
/// One usage event as a test sends it: defaults that make a valid, priced event, and <c>with { … }</c> for what the
/// test is about. The one place tests write an event's shape; the tests of the wire format itself (case, wrong types,
/// hostile input) keep their raw JSON on purpose.
/// </summary>
internal sealed record TestEvent
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string? ExternalRequestId { get; init; } = "evt-" + Guid.NewGuid().ToString("N");
    public string Provider { get; init; } = "openai";
    public string Model { get; init; } = "gpt-4o-mini";
    public string? EndpointTag { get; init; }
    public string? PromptVersion { get; init; }
    public string? UserId { get; init; }
    public string? TenantId { get; init; }
    public long InputTokens { get; init; } = 100;
    public long OutputTokens { get; init; } = 10;
    public int? LatencyMs { get; init; }
    public string Status { get; init; } = "success";
    public string? ErrorCode { get; init; }
    public string? DataMode { get; init; }
    public string? Environment { get; init; }
    public DateTimeOffset? OccurredAt { get; init; }
    public decimal? CostUsd { get; init; }

    /// <summary>An event of exactly <paramref name="costUsd"/>: on a model the catalog does not price, so the client's cost is the cost.</summary>
    public static TestEvent Costing(decimal costUsd) => new() { Model = "house-model", InputTokens = 10, OutputTokens = 5, CostUsd = costUsd };

    public string Json() => JsonSerializer.Serialize(this, Options);

    public StringContent Content() => new(Json(), new MediaTypeHeaderValue("application/json"));

    /// <summary>The body of <c>POST /v1/ingest/batch</c>.</summary>
    public static StringContent Batch(IEnumerable<TestEvent> events) =>
        new(JsonSerializer.Serialize(new { events }, Options), new MediaTypeHeaderValue("application/json"));
}
