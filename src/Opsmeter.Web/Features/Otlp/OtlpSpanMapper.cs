using System.Text.Json;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Otlp.Protos;
using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.Web.Features.Otlp;

/// <summary>
/// One OpenTelemetry GenAI span as a usage event (docs/api.md "OpenTelemetry in"). The result is an ordinary
/// <see cref="IngestEventRequest"/>: the ingest validator judges it like any other, so a span lacking what an event
/// needs (a model, token counts) is rejected with the field named, never stored half-filled.
/// </summary>
internal static class OtlpSpanMapper
{
    public const string ExternalIdPrefix = "otel-";

    /// <summary>Operations that are one call to a model: their usage is that call's.</summary>
    private static readonly HashSet<string> InferenceOperations = ["chat", "text_completion", "embeddings", "generate_content"];

    /// <summary>
    /// Operations that wrap model calls (an agent run, a tool, a workflow): instrumentations may total their children's
    /// usage on them, which would count the children twice, so they are ignored even when they carry usage.
    /// </summary>
    private static readonly HashSet<string> WrapperOperations = ["create_agent", "invoke_agent", "execute_tool", "invoke_workflow", "retrieval"];

    /// <summary>The event of a GenAI span, or null for a span that carries no GenAI usage (ignored and counted).</summary>
    public static IngestEventRequest? Map(Span span, OtlpAttributes resource)
    {
        var a = OtlpAttributes.Read(span.Attributes);
        var operation = a.Operation?.Trim().ToLowerInvariant();
        var isInference = operation is not null ? InferenceOperations.Contains(operation) || (a.HasUsage && !WrapperOperations.Contains(operation))
            : a.HasUsage;
        if (!isInference)
        {
            return null;
        }

        var failed = span.Status?.Code == Status.Types.StatusCode.Error || a.ErrorType is not null;
        var start = Instant(span.StartTimeUnixNano);
        var provider = a.ProviderName ?? a.System;
        return new IngestEventRequest
        {
            ExternalRequestId = ExternalRequestId(span),
            Provider = provider is null ? null : Providers.Normalize(provider),
            Model = a.ResponseModel ?? a.RequestModel,
            EndpointTag = a.EndpointTag ?? resource.EndpointTag ?? resource.ServiceName,
            PromptVersion = a.PromptVersion ?? a.OpsmeterPromptVersion ?? resource.PromptVersion ?? resource.OpsmeterPromptVersion,
            UserId = a.UserId ?? a.OpsmeterUserId ?? resource.UserId ?? resource.OpsmeterUserId,
            TenantId = a.TenantId ?? resource.TenantId,
            FeatureTag = a.FeatureTag ?? resource.FeatureTag,
            // A failed call may carry no usage (it billed nothing); an embedding has no output. Otherwise a missing
            // count is the validator's to report, so that a span without usage is refused rather than stored as free.
            InputTokens = a.InputTokens ?? a.PromptTokens ?? (failed ? 0 : null),
            OutputTokens = a.OutputTokens ?? a.CompletionTokens ?? (failed || operation == "embeddings" ? 0 : null),
            CachedInputTokens = a.CacheRead ?? a.CacheReadUnderscored,
            CacheWriteInputTokens = a.CacheWrite ?? a.CacheCreation ?? a.CacheWriteUnderscored,
            ReasoningTokens = a.Reasoning ?? a.ReasoningUnderscored,
            LatencyMs = start is not null && span.EndTimeUnixNano >= span.StartTimeUnixNano
                ? (long)((span.EndTimeUnixNano - span.StartTimeUnixNano) / 1_000_000)
                : null,
            Status = failed ? EventStatuses.Error : EventStatuses.Success,
            ErrorCode = failed ? a.ErrorType ?? ShortStatusMessage(span.Status) : null,
            DataMode = a.DataMode ?? resource.DataMode,
            Environment = EnvironmentOf(a) ?? EnvironmentOf(resource),
            OccurredAt = start,
            CostUsd = a.Cost ?? a.OpsmeterCost,
            Metadata = Metadata(operation, a.ResponseId),
        };
    }

    /// <summary>
    /// <c>otel-{trace id}-{span id}</c> in lowercase hex: the same span exported twice (an exporter's retry) is the same
    /// event, a duplicate. A span without ids gets none, and the server assigns one (with a warning).
    /// </summary>
    public static string? ExternalRequestId(Span span) =>
        span.TraceId.IsEmpty || span.SpanId.IsEmpty
            ? null
            : ExternalIdPrefix + Convert.ToHexStringLower(span.TraceId.Span) + "-" + Convert.ToHexStringLower(span.SpanId.Span);

    private static DateTimeOffset? Instant(ulong unixNanos) =>
        unixNanos == 0 ? null : DateTimeOffset.UnixEpoch.AddTicks((long)(unixNanos / 100));

    private static string? ShortStatusMessage(Status? status) =>
        status is { Message.Length: > 0 and <= 128 } ? status.Message : null;

    /// <summary>
    /// Opsmeter's environments are prod, staging and dev; the usual deployment names map onto them. Any other value
    /// goes through as sent, and the validator refuses it by name: set <c>opsmeter.environment</c> to say which it is.
    /// </summary>
    private static string? EnvironmentOf(OtlpAttributes attributes) =>
        attributes.Environment ?? (attributes.DeploymentEnvironmentName ?? attributes.DeploymentEnvironment)?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "production" or "prod" or "prd" => "prod",
            "staging" or "stage" or "stg" => "staging",
            "development" or "dev" or "local" => "dev",
            var other => other,
        };

    private static Dictionary<string, JsonElement>? Metadata(string? operation, string? responseId)
    {
        if (operation is null && responseId is not { Length: <= 128 })
        {
            return null;
        }

        var metadata = new Dictionary<string, JsonElement>(2);
        if (operation is not null)
        {
            metadata["gen_ai.operation.name"] = JsonSerializer.SerializeToElement(operation, IngestJsonContext.Default.String);
        }

        if (responseId is { Length: <= 128 })
        {
            metadata["gen_ai.response.id"] = JsonSerializer.SerializeToElement(responseId, IngestJsonContext.Default.String);
        }

        return metadata;
    }
}
