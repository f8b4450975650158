using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.Client;
using Opsmeter.Client.Usage;
using Opsmeter.IntegrationTests.Infrastructure;

namespace Opsmeter.IntegrationTests.Client;

/// <summary>
/// Each provider usage mapper over this project's own fixture (Client/Fixtures/provider-usage): the counts in Opsmeter's terms
/// (input includes cache reads and writes, output includes reasoning), and the cost the real server gives the mapped event.
/// Expected costs are worked by hand from src/Opsmeter.Web/Features/Pricing/Catalog/model-prices.json, USD per million tokens:
/// (input − cached − write)·in + cached·cachedIn + write·writeIn + (output − reasoning)·out + reasoning·reasoningOut, where a price
/// the catalog leaves empty falls back to the input (or output) price. No fixture crosses a long-context threshold.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class ProviderUsageTests(OpsmeterApp app)
{
    private const string BedrockModel = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    private const string BedrockRequestId = "4b7d2e90-61fa-4c3b-9e85-0d2a7c1f5e36";

    private sealed record Expected(string Provider, string Model, string? Id, long Input, long Output, long Cached, long CacheWrite,
        long CacheWrite1h, long Reasoning, decimal CostUsd);

    private sealed record Case(Func<JsonElement, OpsmeterEvent> Map, Expected Expected);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // gpt-4o 2.5 / cached 1.25 / out 10: 746·2.5 + 2304·1.25 + 212·10 = 1865 + 2880 + 2120 = 6865 → 0.006865
        ["openai-chat-completion.json"] = new(ProviderUsage.FromOpenAiChatCompletion,
            new("openai", "gpt-4o-2024-08-06", "chatcmpl-OpsFx0aT4kQm8ZrW2vYc5Ne1Lb7Hs", 3050, 212, 2304, 0, 0, 0, 0.006865m)),
        // o4-mini 1.1 / cached 0.275 / out 4.4: 1205·1.1 + 1536·0.275 + 1903·4.4 = 1325.5 + 422.4 + 8373.2 = 10121.1 → 0.0101211
        ["openai-chat-completion-reasoning.json"] = new(ProviderUsage.FromOpenAiChatCompletion,
            new("openai", "o4-mini-2025-04-16", "chatcmpl-OpsFx1bU5lRn9AsX3wZd6Of2Mc8It", 2741, 1903, 1536, 0, 0, 1664, 0.0101211m)),
        // gpt-4o-mini 0.15 / cached 0.075 / out 0.6: 137·0.15 + 768·0.075 + 377·0.6 = 20.55 + 57.6 + 226.2 = 304.35 → 0.00030435
        ["openai-chat-completion-stream-final-chunk.json"] = new(ProviderUsage.FromOpenAiChatCompletion,
            new("openai", "gpt-4o-mini-2024-07-18", "chatcmpl-OpsFx2cV6mSo0BtY4xAe7Pg3Nd9Ju", 905, 377, 768, 0, 0, 0, 0.00030435m)),
        // gpt-5 1.25 / cached 0.125 / no write price, so 1.25 / out 10: 664·1.25 + 6144·0.125 + 512·1.25 + 2410·10
        // = 830 + 768 + 640 + 24100 = 26338 → 0.026338
        ["openai-responses.json"] = new(ProviderUsage.FromOpenAiResponse,
            new("openai", "gpt-5-2025-08-07", "resp_opsfx03d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7", 7320, 2410, 6144, 512, 0, 1984, 0.026338m)),
        // text-embedding-3-small 0.02: 143·0.02 = 2.86 → 0.00000286
        ["openai-embeddings.json"] = new(ProviderUsage.FromOpenAiEmbeddings,
            new("openai", "text-embedding-3-small", null, 143, 0, 0, 0, 0, 0, 0.00000286m)),
        // azure-openai gpt-4o 2.5 / cached 1.25 / out 10: 290·2.5 + 1920·1.25 + 64·10 = 725 + 2400 + 640 = 3765 → 0.003765
        ["azure-openai-chat-completion.json"] = new(body => ProviderUsage.FromAzureOpenAiChatCompletion(body, "opsfx-gpt4o-eu"),
            new("azure-openai", "gpt-4o-2024-11-20", "chatcmpl-OpsFx4eX8oUq2DvA6zCg9Ri5Pf1Lw", 2210, 64, 1920, 0, 0, 0, 0.003765m)),
        // claude-sonnet-4-5 3 / cached 0.3 / write 3.75 / out 15; input 287 + 20480 read: 287·3 + 20480·0.3 + 934·15
        // = 861 + 6144 + 14010 = 21015 → 0.021015
        ["anthropic-messages.json"] = new(ProviderUsage.FromAnthropicMessage,
            new("anthropic", "claude-sonnet-4-5-20250929", "msg_01OpsFx5aKq7Wn3Rt9Yv2Lc", 20767, 934, 20480, 0, 0, 611, 0.021015m)),
        // input 54 + 18432 written: 54·3 + 18432·3.75 + 37·15 = 162 + 69120 + 555 = 69837 → 0.069837
        ["anthropic-messages-cache-write.json"] = new(ProviderUsage.FromAnthropicMessage,
            new("anthropic", "claude-sonnet-4-5-20250929", "msg_01OpsFx6bLr8Xo4Su0Zw3Md", 18486, 37, 0, 18432, 0, 0, 0.069837m)),
        // input 120 + 2048 read + 12288 written, 8192 of them for 1 hour at 2× input (6), the rest at 3.75:
        // 120·3 + 2048·0.3 + 4096·3.75 + 8192·6 + 158·15 = 360 + 614.4 + 15360 + 49152 + 2370 = 67856.4 → 0.0678564
        ["anthropic-messages-cache-write-1h.json"] = new(ProviderUsage.FromAnthropicMessage,
            new("anthropic", "claude-sonnet-4-5-20250929", "msg_01OpsFx7cMs9Yp5Tv1Ax4Ne", 14456, 158, 2048, 12288, 8192, 0, 0.0678564m)),
        // gemini-2.5-flash 0.3 / cached 0.03 / out 2.5; output 302 candidates + 1478 thoughts:
        // 1800·0.3 + 10240·0.03 + 1780·2.5 = 540 + 307.2 + 4450 = 5297.2 → 0.0052972
        ["gemini-generate-content.json"] = new(ProviderUsage.FromGeminiGenerateContent,
            new("google", "gemini-2.5-flash", "OpsFx8gEmInIcVrEsPoNsEiD", 12040, 1780, 10240, 0, 0, 1478, 0.0052972m)),
        // us. is a regional inference profile: AWS charges 10 % above the global anthropic.claude-sonnet-4-5 rate, so
        // 3.3 / cached 0.33 / out 16.5; input 241 + 6144 read: 241·3.3 + 6144·0.33 + 88·16.5 = 795.3 + 2027.52 + 1452 = 4274.82 → 0.00427482
        ["bedrock-converse.json"] = new(body => ProviderUsage.FromBedrockConverse(body, BedrockModel, BedrockRequestId),
            new("bedrock", BedrockModel, BedrockRequestId, 6385, 88, 6144, 0, 0, 0, 0.00427482m)),
        // input 73 + 7168 written (4096 for 1 hour; Bedrock publishes no 1-hour price, so all at the regional write price 4.125):
        // 73·3.3 + 7168·4.125 + 402·16.5 = 240.9 + 29568 + 6633 = 36441.9 → 0.0364419
        ["bedrock-converse-stream-metadata.json"] = new(body => ProviderUsage.FromBedrockConverse(body, BedrockModel),
            new("bedrock", BedrockModel, null, 7241, 402, 0, 7168, 4096, 0, 0.0364419m)),
        // mistral-large-latest is an alias of mistral-large-2512, 0.5 / out 1.5: 1183·0.5 + 207·1.5 = 591.5 + 310.5 = 902 → 0.000902
        ["mistral-chat-completion.json"] = new(ProviderUsage.FromMistralChatCompletion,
            new("mistral", "mistral-large-latest", "0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c", 1183, 207, 0, 0, 0, 0, 0.000902m)),
        // command-a-03-2025 2.5 / out 10, on billed units: 412·2.5 + 29·10 = 1030 + 290 = 1320 → 0.00132
        ["cohere-v2-chat.json"] = new(body => ProviderUsage.FromCohereChat(body, "command-a-03-2025"),
            new("cohere", "command-a-03-2025", "a3c5e7f9-1b2d-4e6f-8a0c-2e4f6a8c0e1b", 412, 29, 0, 0, 0, 0, 0.00132m)),
        // groq llama-3.3-70b-versatile 0.59 / out 0.79: 655·0.59 + 91·0.79 = 386.45 + 71.89 = 458.34 → 0.00045834
        ["groq-chat-completion.json"] = new(ProviderUsage.FromGroqChatCompletion,
            new("groq", "llama-3.3-70b-versatile", "chatcmpl-7d2e9f4a-1c3b-4e5d-8f6a-9b0c1d2e3f4a", 655, 91, 0, 0, 0, 0, 0.00045834m)),
        // deepseek-chat, price row of 2025-09-29: 0.28 / hit 0.028 / out 0.42: 128·0.28 + 1984·0.028 + 46·0.42
        // = 35.84 + 55.552 + 19.32 = 110.712 → 0.000110712
        ["deepseek-chat-completion.json"] = new(ProviderUsage.FromDeepSeekChatCompletion,
            new("deepseek", "deepseek-chat", "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9", 2112, 46, 1984, 0, 0, 0, 0.000110712m)),
        // deepseek-reasoner, same prices: 61·0.28 + 733·0.42 = 17.08 + 307.86 = 324.94 → 0.00032494
        ["deepseek-reasoner-chat-completion.json"] = new(ProviderUsage.FromDeepSeekChatCompletion,
            new("deepseek", "deepseek-reasoner", "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", 61, 733, 0, 0, 0, 655, 0.00032494m)),
    };

    public static TheoryData<string> Fixtures => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void The_fixture_maps_to_Opsmeter_counts(string fixture)
    {
        var (map, expected) = Cases[fixture];

        var usage = map(Read(fixture));

        Assert.Equal(
            (expected.Provider, expected.Model, expected.Id, expected.Input, expected.Output, expected.Cached, expected.CacheWrite,
                expected.CacheWrite1h, expected.Reasoning),
            (usage.Provider, usage.Model, usage.ExternalRequestId, usage.InputTokens, usage.OutputTokens, usage.CachedInputTokens ?? 0,
                usage.CacheWriteInputTokens ?? 0, usage.CacheWrite1hInputTokens ?? 0, usage.ReasoningTokens ?? 0));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task The_server_prices_the_mapped_event_at_the_catalog_price(string fixture)
    {
        var (map, expected) = Cases[fixture];
        var ws = await app.CreateWorkspaceAsync("ingest");
        await using var services = OpsmeterClientTests.Services(ws);
        var client = services.GetRequiredService<IOpsmeterClient>();
        var id = expected.Id ?? "opsfx-" + fixture;

        client.Track(map(Read(fixture)) with { ExternalRequestId = id });
        await client.FlushAsync();

        var stored = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id && r.ExternalRequestId == id));
        Assert.Equal(
            ("priced", expected.Input, expected.Output, expected.Cached, expected.CacheWrite, expected.CacheWrite1h, expected.Reasoning, expected.CostUsd),
            (stored.CostStatus, stored.InputTokens, stored.OutputTokens, stored.CachedInputTokens, stored.CacheWriteInputTokens,
                stored.CacheWrite1hInputTokens, stored.ReasoningTokens, stored.CostUsd));
    }

    [Fact]
    public void The_string_overloads_read_the_same_body()
    {
        var json = File.ReadAllText(PathOf("anthropic-messages-cache-write-1h.json"));

        Assert.Equal(ProviderUsage.FromAnthropicMessage(Read("anthropic-messages-cache-write-1h.json")), ProviderUsage.FromAnthropicMessage(json));
        Assert.Equal(8192, ProviderUsage.FromBedrockConverse("""{"usage":{"inputTokens":1,"outputTokens":2,"cacheWriteInputTokens":8192,"cacheDetails":[{"ttl":"1h","inputTokens":8192}]}}""",
            BedrockModel).CacheWrite1hInputTokens);
    }

    [Fact]
    public void The_1_hour_cache_writes_go_on_the_wire_as_cacheWrite1hInputTokens()
    {
        var usage = ProviderUsage.FromAnthropicMessage(Read("anthropic-messages-cache-write-1h.json"));

        var wire = JsonSerializer.SerializeToElement(usage, OpsmeterClient.Json);

        Assert.Equal((12288L, 8192L), (wire.GetProperty("cacheWriteInputTokens").GetInt64(), wire.GetProperty("cacheWrite1hInputTokens").GetInt64()));
    }

    [Fact]
    public void Azure_keeps_the_deployment_in_metadata_and_Bedrock_its_latency()
    {
        var azure = ProviderUsage.FromAzureOpenAiChatCompletion(Read("azure-openai-chat-completion.json"), "opsfx-gpt4o-eu");
        var bedrock = ProviderUsage.FromBedrockConverse(Read("bedrock-converse-stream-metadata.json"), BedrockModel);

        Assert.Equal("opsfx-gpt4o-eu", azure.Metadata!["azureDeployment"]);
        Assert.Equal(5630L, bedrock.LatencyMs);
    }

    [Fact]
    public void Gemini_thoughts_already_inside_the_candidates_are_not_counted_twice()
    {
        var usage = ProviderUsage.FromGeminiGenerateContent("""
            {"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":250,"thoughtsTokenCount":200,"totalTokenCount":350},"modelVersion":"gemini-2.5-flash"}
            """);

        Assert.Equal((100L, 250L, (long?)200), (usage.InputTokens, usage.OutputTokens, usage.ReasoningTokens));
    }

    [Theory]
    [InlineData("""{"id":"chatcmpl-x","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"}}]}""")]
    [InlineData("""{"id":"chatcmpl-x","model":"gpt-4o","usage":null}""")]
    [InlineData("""{"error":{"message":"Rate limit reached","type":"requests"}}""")]
    [InlineData("""{"usage":{"prompt_tokens":12,"completion_tokens":3}}""")]
    [InlineData("""{"model":"gpt-4o","usage":{"prompt_tokens":-1,"completion_tokens":3}}""")]
    public void A_body_without_usage_or_model_is_refused(string json) =>
        Assert.Throws<ArgumentException>(() => ProviderUsage.FromOpenAiChatCompletion(json));

    private static string PathOf(string fixture) => Path.Combine(AppContext.BaseDirectory, "Client", "Fixtures", "provider-usage", fixture);

    private static JsonElement Read(string fixture)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(PathOf(fixture)));
        return document.RootElement.Clone();
    }
}
