using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.UnitTests.Features.Ingest;

/// <summary>docs/api.md "Ingest one call": one test per rule. Errors are keyed by the camelCase wire name (docs/api.md "Conventions").</summary>
public sealed class IngestEventValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 7, 12, 0, 0, TimeSpan.Zero);
    private readonly IngestEventValidator validator = new(new FakeTimeProvider(Now));

    private static IngestEventRequest Valid() => new()
    {
        ExternalRequestId = "req-1",
        Provider = "openai",
        Model = "gpt-4o-mini",
        InputTokens = 1_000,
        OutputTokens = 200,
        Status = "success",
    };

    /// <summary>The keys the API sends back: the filter answers with <c>result.ToDictionary()</c>.</summary>
    private IDictionary<string, string[]> Errors(IngestEventRequest request) => validator.Validate(request).ToDictionary();

    private void AssertOnlyError(IngestEventRequest request, string key)
    {
        var errors = Errors(request);
        Assert.True(errors.Keys.SequenceEqual([key]), $"expected only '{key}', got: {string.Join(", ", errors.Keys)}");
    }

    private void AssertValid(IngestEventRequest request)
    {
        var errors = Errors(request);
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
    }

    private static Dictionary<string, JsonElement> Metadata(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Fact]
    public void A_fully_valid_request_passes() => AssertValid(Valid() with
    {
        EndpointTag = "support.reply",
        PromptVersion = "v3",
        UserId = "u1",
        TenantId = "t1",
        FeatureTag = "f",
        TotalTokens = 1_200,
        CachedInputTokens = 400,
        CacheWriteInputTokens = 600,
        ReasoningTokens = 200,
        LatencyMs = 420,
        Status = "error",
        ErrorCode = "rate_limited",
        DataMode = "test",
        Environment = "staging",
        OccurredAt = Now.AddMinutes(-1),
        CostUsd = 0.0012m,
        Metadata = Metadata("""{"team":"a","n":3,"beta":true,"emoji":"😀"}"""),
    });

    [Theory]
    [InlineData("provider")]
    [InlineData("model")]
    [InlineData("inputTokens")]
    [InlineData("outputTokens")]
    [InlineData("status")]
    public void Required_fields_are_reported_by_name(string field)
    {
        AssertOnlyError(field switch
        {
            "provider" => Valid() with { Provider = null },
            "model" => Valid() with { Model = null },
            "inputTokens" => Valid() with { InputTokens = null },
            "outputTokens" => Valid() with { OutputTokens = null },
            _ => Valid() with { Status = null },
        }, field);
        if (field is "provider" or "model" or "status")
        {
            AssertOnlyError(WithText(field, ""), field);
        }
    }

    [Theory]
    [InlineData("provider", 64)]
    [InlineData("model", 128)]
    [InlineData("externalRequestId", 128)]
    [InlineData("endpointTag", 128)]
    [InlineData("promptVersion", 128)]
    [InlineData("userId", 128)]
    [InlineData("tenantId", 128)]
    [InlineData("featureTag", 128)]
    [InlineData("errorCode", 128)]
    public void Text_fields_have_a_maximum_length(string field, int max)
    {
        AssertValid(WithText(field, new string('a', max)));
        AssertOnlyError(WithText(field, new string('a', max + 1)), field);
    }

    private static IngestEventRequest WithText(string field, string value) => field switch
    {
        "provider" => Valid() with { Provider = value },
        "model" => Valid() with { Model = value },
        "externalRequestId" => Valid() with { ExternalRequestId = value },
        "endpointTag" => Valid() with { EndpointTag = value },
        "promptVersion" => Valid() with { PromptVersion = value },
        "userId" => Valid() with { UserId = value },
        "tenantId" => Valid() with { TenantId = value },
        "featureTag" => Valid() with { FeatureTag = value },
        "errorCode" => Valid() with { ErrorCode = value },
        "status" => Valid() with { Status = value },
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    [Fact]
    public void Text_with_NUL_or_a_lone_surrogate_is_rejected()
    {
        // Kept out of InlineData: lone surrogates can break test-case serialization in runners.
        AssertOnlyError(WithText("model", "gpt-4o\0mini"), "model");
        AssertOnlyError(WithText("model", "gpt-4o\ud800"), "model");
        AssertOnlyError(WithText("model", "\udc00gpt"), "model");
        AssertOnlyError(WithText("endpointTag", "a\0b"), "endpointTag");
        AssertOnlyError(WithText("userId", "x\ud800y"), "userId");
    }

    [Fact]
    public void Text_with_a_surrogate_pair_is_accepted() => AssertValid(Valid() with { Model = "gpt-😀" });

    [Fact]
    public void Token_counts_are_0_to_100_million()
    {
        AssertValid(Valid() with { InputTokens = 0, OutputTokens = 0 });
        AssertValid(Valid() with { InputTokens = 100_000_000, OutputTokens = 100_000_000 });
        AssertOnlyError(Valid() with { InputTokens = -1 }, "inputTokens");
        AssertOnlyError(Valid() with { InputTokens = 100_000_001 }, "inputTokens");
        AssertOnlyError(Valid() with { OutputTokens = -1 }, "outputTokens");
        AssertOnlyError(Valid() with { OutputTokens = 100_000_001 }, "outputTokens");
    }

    [Fact]
    public void Optional_token_counts_are_never_negative()
    {
        Assert.Contains("cachedInputTokens", Errors(Valid() with { CachedInputTokens = -1 }).Keys);
        Assert.Contains("cacheWriteInputTokens", Errors(Valid() with { CacheWriteInputTokens = -1 }).Keys);
        Assert.Contains("reasoningTokens", Errors(Valid() with { ReasoningTokens = -1 }).Keys);
        AssertOnlyError(Valid() with { TotalTokens = -1 }, "totalTokens");
    }

    [Fact]
    public void Cached_plus_cache_write_may_not_exceed_input()
    {
        AssertValid(Valid() with { CachedInputTokens = 600, CacheWriteInputTokens = 400 }); // = 1,000
        AssertOnlyError(Valid() with { CachedInputTokens = 600, CacheWriteInputTokens = 401 }, "cachedInputTokens");
        AssertOnlyError(Valid() with { CachedInputTokens = 1_001 }, "cachedInputTokens");
        // Only cache writes too large: the error is still reported under cachedInputTokens (the rule's field).
        AssertOnlyError(Valid() with { CacheWriteInputTokens = 1_001 }, "cachedInputTokens");
    }

    [Fact]
    public void Reasoning_may_not_exceed_output()
    {
        AssertValid(Valid() with { ReasoningTokens = 200 });
        AssertOnlyError(Valid() with { ReasoningTokens = 201 }, "reasoningTokens");
    }

    [Fact]
    public void LatencyMs_is_0_to_one_day()
    {
        AssertValid(Valid() with { LatencyMs = 0 });
        AssertValid(Valid() with { LatencyMs = 86_400_000 });
        AssertOnlyError(Valid() with { LatencyMs = -1 }, "latencyMs");
        AssertOnlyError(Valid() with { LatencyMs = 86_400_001 }, "latencyMs");
    }

    [Theory]
    [InlineData("status", "success", true)]
    [InlineData("status", "ERROR", true)]
    [InlineData("status", "banana", false)]
    [InlineData("dataMode", "REAL", true)]
    [InlineData("dataMode", "Demo", true)]
    [InlineData("dataMode", "banana", false)]
    [InlineData("environment", "STAGING", true)]
    [InlineData("environment", "dev", true)]
    [InlineData("environment", "banana", false)]
    public void Choices_are_case_insensitive(string field, string value, bool valid)
    {
        var request = field switch
        {
            "status" => Valid() with { Status = value },
            "dataMode" => Valid() with { DataMode = value },
            _ => Valid() with { Environment = value },
        };
        Assert.Equal(valid ? Array.Empty<string>() : [field], Errors(request).Keys.ToArray());
    }

    [Fact]
    public void OccurredAt_at_most_five_minutes_in_the_future()
    {
        AssertValid(Valid() with { OccurredAt = Now.AddMinutes(4) });
        AssertValid(Valid() with { OccurredAt = Now.AddMinutes(5) });
        AssertOnlyError(Valid() with { OccurredAt = Now.AddMinutes(6) }, "occurredAt");
        // Same instant written with another offset: 13:06+01:00 is 12:06Z.
        AssertOnlyError(Valid() with { OccurredAt = new DateTimeOffset(2026, 3, 7, 13, 6, 0, TimeSpan.FromHours(1)) }, "occurredAt");
    }

    [Fact]
    public void CreatedAt_alias_is_checked_too()
    {
        AssertValid(Valid() with { CreatedAt = Now.AddMinutes(4) });
        AssertOnlyError(Valid() with { CreatedAt = Now.AddMinutes(6) }, "occurredAt");
    }

    [Fact]
    public void CostUsd_may_not_be_negative()
    {
        AssertValid(Valid() with { CostUsd = 0m });
        AssertOnlyError(Valid() with { CostUsd = -0.0001m }, "costUsd");
    }

    [Fact]
    public void Metadata_holds_at_most_32_keys()
    {
        AssertValid(Valid() with { Metadata = Keys(32) });
        AssertOnlyError(Valid() with { Metadata = Keys(33) }, "metadata");

        static Dictionary<string, JsonElement> Keys(int count) =>
            Enumerable.Range(0, count).ToDictionary(i => $"k{i}", _ => JsonSerializer.SerializeToElement(1));
    }

    [Fact]
    public void Metadata_over_4_KiB_is_rejected()
    {
        // {"note":"…"} is 11 bytes of JSON around the value.
        AssertValid(Valid() with { Metadata = new() { ["note"] = JsonSerializer.SerializeToElement(new string('a', 3_000)) } });
        AssertOnlyError(Valid() with { Metadata = new() { ["note"] = JsonSerializer.SerializeToElement(new string('a', 4_100)) } }, "metadata");
    }

    [Fact]
    public void Metadata_over_4_KiB_of_UTF8_is_rejected_even_when_it_is_fewer_than_4096_chars()
    {
        // 2,100 × "é" is 2,100 chars but 4,200 UTF-8 bytes: over 4 KiB. The validator adds value.GetRawText().Length
        // (UTF-16 chars) while it counts keys in UTF-8 bytes, so this passes today.
        var value = JsonDocument.Parse($"\"{new string('é', 2_100)}\"").RootElement.Clone();

        AssertOnlyError(Valid() with { Metadata = new() { ["note"] = value } }, "metadata");
    }

    [Theory]
    [InlineData("""{"team":{"name":"a"}}""")]
    [InlineData("""{"team":["a","b"]}""")]
    public void Metadata_values_must_be_scalars(string json) =>
        AssertOnlyError(Valid() with { Metadata = Metadata(json) }, "metadata.team");

    [Fact]
    public void A_null_metadata_value_means_absent_and_counts_toward_no_limit()
    {
        // Opsmeter.io SDKs send {"tenantId":null,"endpoint":null,…} for what the app did not set (docs/api.md "Conventions").
        AssertValid(Valid() with { Metadata = Metadata("""{"team":null}""") });
        var nulls = Enumerable.Range(0, 40).ToDictionary(i => $"n{i}", _ => JsonSerializer.SerializeToElement<string?>(null));
        AssertValid(Valid() with { Metadata = new(nulls) { ["note"] = JsonSerializer.SerializeToElement(new string('a', 3_900)) } });
        AssertOnlyError(Valid() with { Metadata = new(nulls) { ["note"] = JsonSerializer.SerializeToElement(new string('a', 4_100)) } }, "metadata");
    }

    [Fact]
    public void A_tenant_or_feature_taken_from_metadata_must_fit_its_column()
    {
        AssertValid(Valid() with { Metadata = Metadata($$"""{"tenantId":"{{new string('t', 128)}}","feature":"f"}""") });
        AssertOnlyError(Valid() with { Metadata = Metadata($$"""{"tenantId":"{{new string('t', 129)}}"}""") }, "metadata.tenantId");
        AssertOnlyError(Valid() with { Metadata = Metadata($$"""{"feature":"{{new string('f', 129)}}"}""") }, "metadata.feature");
        // The top-level field wins, so a long metadata value beside it is only metadata.
        AssertValid(Valid() with { TenantId = "t1", Metadata = Metadata($$"""{"tenantId":"{{new string('t', 200)}}"}""") });
    }

    [Theory]
    [InlineData("""{"team":"a\u0000b"}""")] // NUL in a string
    [InlineData("""{"team":1e400}""")] // not a finite double
    public void Metadata_values_must_be_storable(string json) =>
        AssertOnlyError(Valid() with { Metadata = Metadata(json) }, "metadata.team");

    [Theory]
    [InlineData("""{"team":"\ud800"}""", "metadata.team")] // JSON may escape a lone surrogate; it is not text
    [InlineData("""{"tenantId":"\udc00"}""", "metadata.tenantId")]
    [InlineData("""{"feature":"a\ud800b"}""", "metadata.feature")]
    public void A_metadata_string_that_is_not_text_is_a_field_error_never_an_exception(string json, string key) =>
        AssertOnlyError(Valid() with { Metadata = Metadata(json) }, key);

    [Fact]
    public void One_hour_cache_writes_must_not_exceed_cache_writes()
    {
        AssertValid(Valid() with { InputTokens = 100, CacheWriteInputTokens = 50, CacheWrite1hInputTokens = 50 });
        AssertOnlyError(Valid() with { InputTokens = 100, CacheWriteInputTokens = 50, CacheWrite1hInputTokens = 51 }, "cacheWrite1hInputTokens");
        AssertOnlyError(Valid() with { InputTokens = 100, CacheWrite1hInputTokens = 1 }, "cacheWrite1hInputTokens");
        AssertOnlyError(Valid() with { CacheWrite1hInputTokens = -1 }, "cacheWrite1hInputTokens");
    }

    [Theory]
    [InlineData("standard")]
    [InlineData("flex")]
    [InlineData("Priority")]
    [InlineData("batch")]
    public void Known_service_tiers_are_accepted(string tier) => AssertValid(Valid() with { ServiceTier = tier });

    [Theory]
    [InlineData("scale")]
    [InlineData("default")]
    [InlineData("")]
    public void Other_service_tiers_are_a_field_error(string tier) => AssertOnlyError(Valid() with { ServiceTier = tier }, "serviceTier");

    [Fact]
    public void A_provider_reported_cost_needs_the_cost()
    {
        AssertValid(Valid() with { CostUsd = 0.01m, CostReportedBy = "provider" });
        AssertOnlyError(Valid() with { CostReportedBy = "provider" }, "costUsd");
        AssertOnlyError(Valid() with { CostUsd = 0.01m, CostReportedBy = "gateway" }, "costReportedBy");
    }
}
