using System.Globalization;
using Google.Protobuf.Collections;
using Opsmeter.Web.Features.Otlp.Protos;

namespace Opsmeter.Web.Features.Otlp;

/// <summary>
/// The attributes of one span (or resource) that Opsmeter reads, found in one pass over its key-values. The GenAI
/// conventions renamed attributes over time, so each old name has a slot of its own and the newer name wins,
/// whatever their order (docs/api.md "OpenTelemetry in" lists them).
/// </summary>
internal sealed class OtlpAttributes
{
    public string? Operation { get; private set; }
    public string? ProviderName { get; private set; }
    public string? System { get; private set; }
    public string? ResponseModel { get; private set; }
    public string? RequestModel { get; private set; }
    public string? ResponseId { get; private set; }
    public string? ErrorType { get; private set; }
    public bool HasUsage { get; private set; }
    public long? InputTokens { get; private set; }
    public long? PromptTokens { get; private set; }
    public long? OutputTokens { get; private set; }
    public long? CompletionTokens { get; private set; }
    public long? CacheRead { get; private set; }
    public long? CacheReadUnderscored { get; private set; }
    public long? CacheWrite { get; private set; }
    public long? CacheCreation { get; private set; }
    public long? CacheWriteUnderscored { get; private set; }
    public long? Reasoning { get; private set; }
    public long? ReasoningUnderscored { get; private set; }
    public decimal? Cost { get; private set; }
    public decimal? OpsmeterCost { get; private set; }
    public string? ServiceName { get; private set; }
    public string? EndpointTag { get; private set; }
    public string? PromptVersion { get; private set; }
    public string? OpsmeterPromptVersion { get; private set; }
    public string? UserId { get; private set; }
    public string? OpsmeterUserId { get; private set; }
    public string? TenantId { get; private set; }
    public string? FeatureTag { get; private set; }
    public string? DataMode { get; private set; }
    public string? Environment { get; private set; }
    public string? DeploymentEnvironmentName { get; private set; }
    public string? DeploymentEnvironment { get; private set; }

    public static OtlpAttributes Read(RepeatedField<KeyValue> attributes)
    {
        var read = new OtlpAttributes();
        foreach (var attribute in attributes)
        {
            read.Take(attribute.Key, attribute.Value);
        }

        return read;
    }

    private void Take(string key, AnyValue? value)
    {
        switch (key)
        {
            case "gen_ai.operation.name": Operation = Text(value); break;
            case "gen_ai.provider.name": ProviderName = Text(value); break;
            case "gen_ai.system": System = Text(value); break;
            case "gen_ai.response.model": ResponseModel = Text(value); break;
            case "gen_ai.request.model": RequestModel = Text(value); break;
            case "gen_ai.response.id": ResponseId = Text(value); break;
            case "error.type": ErrorType = Text(value); break;
            case "gen_ai.usage.input_tokens": InputTokens = Count(value); break;
            case "gen_ai.usage.prompt_tokens": PromptTokens = Count(value); break;
            case "gen_ai.usage.output_tokens": OutputTokens = Count(value); break;
            case "gen_ai.usage.completion_tokens": CompletionTokens = Count(value); break;
            case "gen_ai.usage.cache_read.input_tokens": CacheRead = Count(value); break;
            case "gen_ai.usage.cache_read_input_tokens": CacheReadUnderscored = Count(value); break;
            case "gen_ai.usage.cache_write.input_tokens": CacheWrite = Count(value); break;
            case "gen_ai.usage.cache_creation.input_tokens": CacheCreation = Count(value); break;
            case "gen_ai.usage.cache_creation_input_tokens" or "gen_ai.usage.cache_write_input_tokens": CacheWriteUnderscored = Count(value); break;
            case "gen_ai.usage.reasoning.output_tokens": Reasoning = Count(value); break;
            case "gen_ai.usage.reasoning_tokens": ReasoningUnderscored = Count(value); break;
            case "gen_ai.usage.cost": Cost = Money(value); break;
            case "opsmeter.cost_usd": OpsmeterCost = Money(value); break;
            case "service.name": ServiceName = Text(value); break;
            case "opsmeter.endpoint_tag": EndpointTag = Text(value); break;
            case "gen_ai.prompt.version": PromptVersion = Text(value); break;
            case "opsmeter.prompt_version": OpsmeterPromptVersion = Text(value); break;
            case "enduser.id": UserId = Text(value); break;
            case "opsmeter.user_id": OpsmeterUserId = Text(value); break;
            case "opsmeter.tenant_id": TenantId = Text(value); break;
            case "opsmeter.feature_tag": FeatureTag = Text(value); break;
            case "opsmeter.data_mode": DataMode = Text(value); break;
            case "opsmeter.environment": Environment = Text(value); break;
            case "deployment.environment.name": DeploymentEnvironmentName = Text(value); break;
            case "deployment.environment": DeploymentEnvironment = Text(value); break;
            default: break;
        }

        if (key.StartsWith("gen_ai.usage.", StringComparison.Ordinal))
        {
            HasUsage = true;
        }
    }

    /// <summary>A scalar as text (an id may arrive as a number); arrays, maps, bytes and blanks are no text.</summary>
    private static string? Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue when !string.IsNullOrWhiteSpace(value.StringValue) => value.StringValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue) => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        _ => null,
    };

    /// <summary>A token count: an int, a whole double, or a string of digits (some SDKs stringify); anything else is absent.</summary>
    private static long? Count(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue) && Math.Abs(value.DoubleValue) < 1e15
            && value.DoubleValue == Math.Floor(value.DoubleValue) => (long)value.DoubleValue,
        AnyValue.ValueOneofCase.StringValue when long.TryParse(value.StringValue, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };

    /// <summary>A cost in USD: a finite double or a decimal string; the validator bounds it.</summary>
    private static decimal? Money(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue) && Math.Abs(value.DoubleValue) < 1e15 => (decimal)value.DoubleValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.StringValue when decimal.TryParse(value.StringValue, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };
}
