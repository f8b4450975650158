using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using FluentValidation;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.Web.Features.Ingest;

internal sealed class IngestEventValidator : AbstractValidator<IngestEventRequest>
{
    public const long MaxTokens = 100_000_000;
    public const long MaxLatencyMs = 86_400_000;
    public const int MaxMetadataKeys = 32;
    public const int MaxMetadataBytes = 4096;
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    public IngestEventValidator(TimeProvider clock)
    {
        RuleFor(x => x.ExternalRequestId).Text(128);
        RuleFor(x => x.Provider).NotEmpty().Text(64);
        RuleFor(x => x.Model).NotEmpty().Text(128);
        RuleFor(x => x.EndpointTag).Text(128);
        RuleFor(x => x.PromptVersion).Text(128);
        RuleFor(x => x.UserId).Text(128);
        RuleFor(x => x.TenantId).Text(128);
        RuleFor(x => x.FeatureTag).Text(128);
        RuleFor(x => x.ErrorCode).Text(128);

        RuleFor(x => x.InputTokens).NotNull().InclusiveBetween(0, MaxTokens);
        RuleFor(x => x.OutputTokens).NotNull().InclusiveBetween(0, MaxTokens);
        RuleFor(x => x.TotalTokens).InclusiveBetween(0, 2 * MaxTokens);
        RuleFor(x => x.CachedInputTokens).InclusiveBetween(0, MaxTokens);
        RuleFor(x => x.CacheWriteInputTokens).InclusiveBetween(0, MaxTokens);
        RuleFor(x => x.CacheWrite1hInputTokens).InclusiveBetween(0, MaxTokens);
        RuleFor(x => x.ReasoningTokens).InclusiveBetween(0, MaxTokens);
        RuleFor(x => x.LatencyMs).InclusiveBetween(0, MaxLatencyMs);
        RuleFor(x => x.CachedInputTokens)
            .Must((x, cached) => (cached ?? 0) + (x.CacheWriteInputTokens ?? 0) <= x.InputTokens)
            .When(x => x.InputTokens is not null && (x.CachedInputTokens is not null || x.CacheWriteInputTokens is not null))
            .WithMessage("cachedInputTokens + cacheWriteInputTokens must not exceed inputTokens.");
        RuleFor(x => x.CacheWrite1hInputTokens)
            .Must((x, oneHour) => oneHour <= (x.CacheWriteInputTokens ?? 0))
            .When(x => x.CacheWrite1hInputTokens is not null)
            .WithMessage("cacheWrite1hInputTokens must not exceed cacheWriteInputTokens.");
        RuleFor(x => x.ReasoningTokens)
            .Must((x, reasoning) => reasoning <= x.OutputTokens)
            .When(x => x.OutputTokens is not null && x.ReasoningTokens is not null)
            .WithMessage("reasoningTokens must not exceed outputTokens.");

        RuleFor(x => x.Status).NotEmpty().OneOf(EventStatuses.All);
        RuleFor(x => x.DataMode).OneOf(DataModes.All);
        RuleFor(x => x.Environment).OneOf(EventEnvironments.All);
        RuleFor(x => x.When)
            .Must(when => when <= clock.GetUtcNow() + FutureTolerance)
            .When(x => x.When is not null)
            .OverridePropertyName("occurredAt")
            .WithMessage("occurredAt must not be more than 5 minutes in the future.");
        RuleFor(x => x.ServiceTier).OneOf(ServiceTiers.All);
        RuleFor(x => x.CostUsd).GreaterThanOrEqualTo(0).LessThan(1_000_000_000m);
        RuleFor(x => x.CostReportedBy).OneOf(CostReporters.All);
        RuleFor(x => x.CostUsd).NotNull()
            .When(x => string.Equals(x.CostReportedBy, CostReporters.Provider, StringComparison.OrdinalIgnoreCase))
            .WithMessage("costUsd is required when costReportedBy is 'provider'.");
        RuleFor(x => x.Metadata!).Custom(ValidateMetadata).When(x => x.Metadata is not null);
        // Where a metadata value stands for the tenant or feature (Opsmeter.io SDKs), it must fit that column too.
        RuleFor(x => x.Tenant).MaximumLength(128).When(x => string.IsNullOrWhiteSpace(x.TenantId))
            .OverridePropertyName("metadata.tenantId").WithName("metadata.tenantId");
        RuleFor(x => x.Feature).MaximumLength(128).When(x => string.IsNullOrWhiteSpace(x.FeatureTag))
            .OverridePropertyName("metadata.feature").WithName("metadata.feature");
    }

    /// <summary>
    /// The limits apply to what is stored: a <c>null</c> value means "absent" (docs/api.md "Conventions") and is dropped
    /// before storing, so it counts toward neither the keys nor the bytes. The body's own size limit bounds the rest.
    /// </summary>
    private static void ValidateMetadata(Dictionary<string, JsonElement> metadata, ValidationContext<IngestEventRequest> context)
    {
        var bytes = 2;
        var keys = 0;
        foreach (var (key, value) in metadata)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            keys++;
            bytes += Encoding.UTF8.GetByteCount(key) + JsonMarshal.GetRawUtf8Value(value).Length + 4;
            if (key.Length == 0 || !TextRules.IsStorable(key))
            {
                context.AddFailure("metadata", "metadata keys must be non-empty text.");
            }
            else if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
            {
                context.AddFailure($"metadata.{key}", "metadata values must be strings, numbers, booleans or null.");
            }
            else if (value.ValueKind == JsonValueKind.String && !(IngestEventRequest.TryGetText(value) is { } text && TextRules.IsStorable(text)))
            {
                context.AddFailure($"metadata.{key}", TextRules.Message);
            }
            else if (value.ValueKind == JsonValueKind.Number && !(value.TryGetDouble(out var number) && double.IsFinite(number)))
            {
                context.AddFailure($"metadata.{key}", "metadata numbers must be finite double-precision values.");
            }
        }

        if (keys > MaxMetadataKeys)
        {
            context.AddFailure("metadata", $"metadata may hold at most {MaxMetadataKeys} keys.");
        }

        if (bytes > MaxMetadataBytes)
        {
            context.AddFailure("metadata", $"metadata must not exceed {MaxMetadataBytes} bytes.");
        }
    }
}

internal static class ValidationRules
{
    /// <summary>An optional string that fits the column and can be stored: at most <paramref name="maxLength"/> characters, no NUL, no broken UTF-16.</summary>
    public static IRuleBuilderOptions<T, string?> Text<T>(this IRuleBuilder<T, string?> rule, int maxLength) =>
        rule.MaximumLength(maxLength).Must(s => s is null || TextRules.IsStorable(s)).WithMessage(TextRules.Message);

    /// <summary>Case-insensitive choice among <paramref name="allowed"/>; null passes (the default applies).</summary>
    public static IRuleBuilderOptions<T, string?> OneOf<T>(this IRuleBuilder<T, string?> rule, string[] allowed) =>
        rule.Must(s => s is null || allowed.Contains(s, StringComparer.OrdinalIgnoreCase))
            .WithMessage($"'{{PropertyValue}}' is not one of: {string.Join(", ", allowed)}.");
}

internal static class TextRules
{
    public const string Message = "must be text without NUL characters or unpaired surrogates.";

    /// <summary>PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8.</summary>
    public static bool IsStorable(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                return false;
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// The lower bound of <c>occurredAt</c>: not older than the workspace's raw retention (docs/api.md "Ingest one call").
/// It depends on the workspace, so the handlers check it after the validator, with the same error shape.
/// </summary>
internal static class OccurredAtBound
{
    public static Dictionary<string, string[]>? Check(IngestEventRequest request, DateTimeOffset oldest, int retentionDays) =>
        request.When is { } when && when < oldest
            ? new Dictionary<string, string[]>
            {
                ["occurredAt"] =
                [
                    $"occurredAt must not be older than the workspace's raw retention of {retentionDays} days: " +
                    $"events before {oldest.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} are refused.",
                ],
            }
            : null;
}
