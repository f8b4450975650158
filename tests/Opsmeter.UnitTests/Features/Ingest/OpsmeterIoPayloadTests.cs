using System.Text.Json;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.UnitTests.Features.Ingest;

/// <summary>
/// docs/api.md "Conventions": what Opsmeter.io clients send is read liberally. A null means absent, an errorCode sent as a
/// number or boolean is its text, and the tenant and feature they send in metadata attribute the event.
/// </summary>
public sealed class OpsmeterIoPayloadTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 3, 7, 12, 0, 0, TimeSpan.Zero);

    private static IngestEventRequest Read(string extra) => JsonSerializer.Deserialize(
        $$"""{"provider":"openai","model":"gpt-4o-mini","inputTokens":10,"outputTokens":5,"status":"error"{{extra}}}""",
        IngestJsonContext.Default.IngestEventRequest)!;

    private static LlmRequest Row(IngestEventRequest request) => PriceEvent.From(request, Guid.NewGuid(), ReceivedAt, new PriceCatalog()).Row;

    [Theory]
    [InlineData("""
        ,"errorCode":20
        """, "20")]
    [InlineData("""
        ,"errorCode":503
        """, "503")]
    [InlineData("""
        ,"errorCode":-1.5e3
        """, "-1.5e3")]
    [InlineData("""
        ,"errorCode":true
        """, "true")]
    [InlineData("""
        ,"errorCode":"TimeoutError"
        """, "TimeoutError")]
    [InlineData("""
        ,"errorCode":null
        """, null)]
    public void ErrorCode_is_read_as_its_text(string extra, string? expected) => Assert.Equal(expected, Read(extra.Trim()).ErrorCode);

    [Theory]
    [InlineData("""{"code":1}""")]
    [InlineData("[503]")]
    public void ErrorCode_that_is_not_a_scalar_is_an_error_naming_the_field(string value)
    {
        var error = Assert.Throws<JsonException>(() => Read($",\"errorCode\":{value}"));
        Assert.Equal("$.errorCode", error.Path);
    }

    [Fact]
    public void Null_metadata_values_are_dropped_before_storing()
    {
        var row = Row(Read(""","metadata":{"operation":"chat.completions.create","tenantId":null,"endpoint":null,"sdkLanguage":"node"}"""));

        using var stored = JsonDocument.Parse(row.Metadata!);
        Assert.Equal(["operation", "sdkLanguage"], stored.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Null(row.TenantId);
    }

    [Fact]
    public void Metadata_of_nulls_only_stores_no_metadata() =>
        Assert.Null(Row(Read(""","metadata":{"tenantId":null,"feature":null}""")).Metadata);

    [Fact]
    public void Metadata_tenant_and_feature_attribute_the_event_when_the_fields_are_absent()
    {
        var row = Row(Read(""","metadata":{"tenantId":"t1","feature":"assistant","endpoint":"/api/chat"}"""));

        Assert.Equal(("t1", "assistant"), (row.TenantId, row.FeatureTag));
    }

    [Fact]
    public void Top_level_tenant_and_feature_win_over_metadata()
    {
        var row = Row(Read(""","tenantId":"top","featureTag":"top-feature","metadata":{"tenantId":"t1","feature":"assistant"}"""));

        Assert.Equal(("top", "top-feature"), (row.TenantId, row.FeatureTag));
    }

    [Theory]
    [InlineData("""
        {"tenantId":""}
        """, null)]
    [InlineData("""
        {"tenantId":"  "}
        """, null)]
    [InlineData("""
        {"tenantId":42}
        """, "42")]
    [InlineData("""
        {"tenantId":true}
        """, null)]
    public void Only_text_or_a_number_in_metadata_names_a_tenant(string metadata, string? tenant) =>
        Assert.Equal(tenant, Row(Read($",\"metadata\":{metadata.Trim()}")).TenantId);
}
