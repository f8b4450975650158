using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Pricing;

/// <summary>
/// The price book's audit findings (issue 17) end to end: an event sent over HTTP with the model string in question, and
/// the cost and cost source stored for it.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class PriceBookIngestTests(OpsmeterApp app)
{
    private static string Event(string id, string provider, string model, string extra = "") =>
        $$"""{"externalRequestId":"{{id}}","provider":"{{provider}}","model":"{{model}}","inputTokens":1000,"outputTokens":1000,"status":"success"{{extra}}}""";

    // 1,000 input and 1,000 output tokens at the row's prices; the comment gives the cost before the fix.
    [Theory]
    [InlineData("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.0198")] // was 0.018 (global rate)
    [InlineData("bedrock", "eu.anthropic.claude-haiku-4-5-20251001-v1:0", "0.0066")] // was 0.006
    [InlineData("azure", "gpt-35-turbo-0613", "0.0035")] // was 0.002 (gpt-35-turbo alias)
    [InlineData("bedrock", "openai.gpt-oss-120b-1:0", "0.00075")] // was unpriced
    [InlineData("vertex_ai", "gemini-2.0-flash-001", "0.00075")] // was 0.0005 (Gemini API rate)
    [InlineData("vertex", "claude-sonnet-4-5@20250929", "0.018")] // was unpriced
    public async Task Audited_model_strings_are_stored_at_their_own_price(string provider, string model, string cost)
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", Json(Event("p-1", provider, model)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id));
        Assert.Equal(decimal.Parse(cost, System.Globalization.CultureInfo.InvariantCulture), stored.CostUsd);
        Assert.Equal(("priced", "catalog", "standard"), (stored.CostStatus, stored.CostSource, stored.ServiceTier));
    }

    [Fact]
    public async Task A_new_dated_mistral_medium_is_unpriced_instead_of_priced_as_the_retired_model()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", Json(Event("m-1", "mistral", "mistral-medium-2604")));

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unpriced", body.GetProperty("costStatus").GetString()); // was 0.0108 at mistral-medium-2312's 2.7/8.1
        var stored = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id));
        Assert.Null(stored.CostSource);
    }

    [Fact]
    public async Task One_hour_cache_writes_and_service_tiers_are_stored_and_priced()
    {
        var ws = await app.CreateWorkspaceAsync();

        await ws.Client.PostAsync("/v1/ingest", Json(Event("c-1", "anthropic", "claude-sonnet-4-5-20250929",
            ""","cacheWriteInputTokens":400,"cacheWrite1hInputTokens":100""")));
        await ws.Client.PostAsync("/v1/ingest", Json(Event("t-1", "openai", "gpt-5", ""","serviceTier":"priority" """)));
        await ws.Client.PostAsync("/v1/ingest", Json(Event("t-2", "openai", "gpt-5", ""","serviceTier":"batch" """)));

        var stored = await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).ToDictionaryAsync(r => r.ExternalRequestId));
        var cache = stored["c-1"];
        Assert.Equal((400L, 100L), (cache.CacheWriteInputTokens, cache.CacheWrite1hInputTokens));
        Assert.Equal(0.001725m, cache.CacheWriteCostUsd); // 300 × 3.75 + 100 × 6 (was 0.0015: all at 3.75)
        Assert.Equal(0.0168m + 0.001725m, cache.CostUsd); // 600 × 3 in + 1,000 × 15 out + writes
        Assert.Equal(("priority", 0.0225m), (stored["t-1"].ServiceTier, stored["t-1"].CostUsd)); // 2.5 in, 20 out (was 0.01125)
        Assert.Equal(("batch", 0.005625m), (stored["t-2"].ServiceTier, stored["t-2"].CostUsd)); // half of 1.25 in, 10 out
    }

    [Fact]
    public async Task A_provider_reported_cost_is_kept_as_the_cost_with_its_source()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", Json(Event("r-1", "openai", "gpt-4o",
            ""","costUsd":0.0042,"costReportedBy":"provider" """)));
        await ws.Client.PostAsync("/v1/ingest", Json(Event("r-2", "openai", "no-such-model", ""","costUsd":0.0042""")));

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0.0042m, body.GetProperty("costUsd").GetDecimal());
        Assert.Equal("priced", body.GetProperty("costStatus").GetString());
        var stored = await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).ToDictionaryAsync(r => r.ExternalRequestId));
        Assert.Equal(("provider_reported", 0.0042m), (stored["r-1"].CostSource, stored["r-1"].CostUsd));
        Assert.Equal(("client_reported", 0.0042m), (stored["r-2"].CostSource, stored["r-2"].CostUsd));
    }

    [Theory]
    [InlineData(""","serviceTier":"scale" """, "serviceTier")]
    [InlineData(""","cacheWriteInputTokens":10,"cacheWrite1hInputTokens":11""", "cacheWrite1hInputTokens")]
    [InlineData(""","costReportedBy":"provider" """, "costUsd")]
    public async Task Invalid_price_book_fields_are_400_field_errors(string extra, string field)
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", Json(Event("v-1", "openai", "gpt-4o", extra)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
    }

    [Fact]
    public async Task The_public_list_shows_tier_rows_and_1_hour_prices()
    {
        using var client = app.CreateClient();
        var list = await client.GetFromJsonAsync<JsonElement>("/v1/public/pricing-models?provider=openai&serviceTier=all");
        var standard = await client.GetFromJsonAsync<JsonElement>("/v1/public/pricing-models?provider=openai");
        var anthropic = await client.GetFromJsonAsync<JsonElement>("/v1/public/pricing-models?provider=anthropic");

        Assert.Contains(list.EnumerateArray(), r =>
            r.GetProperty("model").GetString() == "gpt-5" && r.GetProperty("serviceTier").GetString() == "priority"
            && r.GetProperty("inputPerMillionUsd").GetDecimal() == 2.5m);
        Assert.DoesNotContain(standard.EnumerateArray(), r => r.GetProperty("serviceTier").GetString() != "standard");
        Assert.Contains(anthropic.EnumerateArray(), r =>
            r.GetProperty("model").GetString() == "claude-opus-4-1" && r.GetProperty("cacheWrite1hPerMillionUsd").GetDecimal() == 30m);
    }
}
