using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Features.Pricing;

[Collection(SharedApp.Name)]
public sealed class PublicEndpointsTests(OpsmeterApp app)
{
    [Fact]
    public async Task The_catalog_is_served_without_a_key()
    {
        using var client = app.CreateClient();

        var all = await client.GetFromJsonAsync<JsonElement[]>("/v1/public/pricing-models");
        var anthropic = await client.GetFromJsonAsync<JsonElement[]>("/v1/public/pricing-models?provider=anthropic");

        Assert.True(all!.Length >= 150, $"only {all.Length} models");
        Assert.All(anthropic!, row => Assert.Equal("anthropic", row.GetProperty("provider").GetString()));
        var sonnet = anthropic!.Single(r => r.GetProperty("model").GetString() == "claude-sonnet-4-5");
        Assert.Equal(3m, sonnet.GetProperty("inputPerMillionUsd").GetDecimal());
        Assert.Equal(200_000, sonnet.GetProperty("longContextThresholdTokens").GetInt64());
        foreach (var field in new[] { "id", "aliases", "cachedInputPerMillionUsd", "cacheWritePerMillionUsd", "reasoningPerMillionUsd", "longContextInputPerMillionUsd", "longContextOutputPerMillionUsd", "effectiveFrom", "source" })
        {
            Assert.True(sonnet.TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public async Task Prices_in_force_at_a_past_moment_are_served()
    {
        using var client = app.CreateClient();

        var before = await client.GetFromJsonAsync<JsonElement[]>("/v1/public/pricing-models?provider=openai&at=2025-03-01T00:00:00Z");
        var after = await client.GetFromJsonAsync<JsonElement[]>("/v1/public/pricing-models?provider=openai&at=2025-07-01T00:00:00Z");

        decimal O3(JsonElement[] rows) => rows.Single(r => r.GetProperty("model").GetString() == "o3").GetProperty("inputPerMillionUsd").GetDecimal();
        Assert.Equal(10m, O3(before!));
        Assert.Equal(2m, O3(after!));
    }

    [Fact]
    public async Task Swagger_documents_every_v1_route_with_the_key_scheme()
    {
        using var client = app.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var ui = await client.GetAsync("/swagger/index.html");

        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/v1/ingest", "/v1/ingest/llm-request", "/v1/ingest/batch", "/v1/public/pricing-models" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        Assert.True(paths.GetProperty("/v1/ingest").GetProperty("post").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/v1/public/pricing-models").GetProperty("get").TryGetProperty("security", out _));
        Assert.Equal("X-API-Key", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("name").GetString());
        // A batch entry is documented as the event it carries.
        var batchEvents = document.GetProperty("components").GetProperty("schemas").GetProperty("IngestBatchRequest")
            .GetProperty("properties").GetProperty("events");
        Assert.Equal("#/components/schemas/IngestEventRequest", batchEvents.GetProperty("items").GetProperty("$ref").GetString());
    }

    [Fact]
    public async Task Health_endpoints_answer()
    {
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }
}
