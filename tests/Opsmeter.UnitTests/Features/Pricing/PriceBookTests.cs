using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.UnitTests.Features.Pricing;

/// <summary>
/// The price book's audit findings (issue 17): each sent model name, the row that must price it and that row's prices, so
/// that a regression names the model it misprices. Prices are USD per million tokens, from the providers' lists.
/// </summary>
public sealed class PriceBookTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 15, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Workspace = Guid.NewGuid();
    private static readonly PriceCatalog Catalog = Load();

    private static PriceCatalog Load()
    {
        var catalog = new PriceCatalog();
        catalog.Load(PriceCatalogSeed.ShippedRows(Now));
        return catalog;
    }

    private static ModelPrice Found(string provider, string model, DateTimeOffset? at = null) =>
        Catalog.Find(Workspace, provider, model, at ?? Now) ?? throw new Xunit.Sdk.XunitException($"{provider}/{model} is unpriced");

    // Before: every one of these was priced at the global profile's rate (3/15, 1/5, 5/25).
    [Theory]
    [InlineData("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic.claude-sonnet-4-5", 3.3, 16.5)]
    [InlineData("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu.anthropic.claude-sonnet-4-5", 3.3, 16.5)]
    [InlineData("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", "jp.anthropic.claude-sonnet-4-5", 3.3, 16.5)]
    [InlineData("au.anthropic.claude-sonnet-4-5-20250929-v1:0", "au.anthropic.claude-sonnet-4-5", 3.3, 16.5)]
    [InlineData("apac.anthropic.claude-haiku-4-5-20251001-v1:0", "apac.anthropic.claude-haiku-4-5", 1.1, 5.5)]
    [InlineData("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "eu.anthropic.claude-haiku-4-5", 1.1, 5.5)]
    [InlineData("us.anthropic.claude-opus-4-5-20251101-v1:0", "us.anthropic.claude-opus-4-5", 5.5, 27.5)]
    [InlineData("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5", 3, 15)]
    [InlineData("anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5", 1, 5)]
    [InlineData("us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4", 3, 15)]
    public void Bedrock_regional_profiles_of_Claude_4_5_cost_10_percent_more(string model, string row, decimal input, decimal output)
    {
        var price = Found("bedrock", model);

        Assert.Equal(row, price.Model);
        Assert.Equal(input, price.InputPerMillionUsd);
        Assert.Equal(output, price.OutputPerMillionUsd);
    }

    [Fact]
    public void A_regional_Claude_Sonnet_4_5_call_costs_the_regional_rate_also_above_200k_tokens()
    {
        var price = Found("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0");

        // 1,000 in + 1,000 out: 0.0033 + 0.0165 (was 0.018 at the global rate).
        Assert.Equal(0.0198m, CostCalculator.Calculate(price, new TokenUsage(1_000, 1_000, 0, 0, 0)).Total);
        // Above 200k input tokens: 6.6 in, 24.75 out.
        Assert.Equal(1.3447566m, CostCalculator.Calculate(price, new TokenUsage(200_001, 1_000, 0, 0, 0)).Total);
    }

    // Before: all three fell through to the gpt-35-turbo alias (0.5/1.5).
    [Theory]
    [InlineData("gpt-35-turbo-0613", 1.5, 2)]
    [InlineData("gpt-35-turbo-1106", 1, 2)]
    [InlineData("gpt-35-turbo-0301", 0.2, 2)]
    [InlineData("gpt-35-turbo-0125", 0.5, 1.5)]
    [InlineData("gpt-35-turbo", 0.5, 1.5)]
    public void Azure_gpt_35_turbo_snapshots_have_their_own_prices(string model, decimal input, decimal output)
    {
        var price = Found("azure", model);

        Assert.Equal("azure-openai", price.Provider);
        Assert.Equal(input, price.InputPerMillionUsd);
        Assert.Equal(output, price.OutputPerMillionUsd);
    }

    // Before: unpriced (the "-1:0" version read as part of the name).
    [Theory]
    [InlineData("openai.gpt-oss-120b-1:0", "openai.gpt-oss-120b", 0.15, 0.6)]
    [InlineData("openai.gpt-oss-20b-1:0", "openai.gpt-oss-20b", 0.07, 0.3)]
    [InlineData("openai.gpt-oss-120b", "openai.gpt-oss-120b", 0.15, 0.6)]
    public void Bedrock_gpt_oss_ids_with_their_version_match(string model, string row, decimal input, decimal output)
    {
        var price = Found("bedrock", model);

        Assert.Equal(row, price.Model);
        Assert.Equal(input, price.InputPerMillionUsd);
        Assert.Equal(output, price.OutputPerMillionUsd);
    }

    // Before: Vertex names took the Gemini API's rows (0.1/0.4 for gemini-2.0-flash) and Claude on Vertex was unpriced.
    [Theory]
    [InlineData("vertex_ai", "gemini-2.0-flash-001", "gemini-2.0-flash", 0.15, 0.6)]
    [InlineData("vertex", "gemini-2.0-flash", "gemini-2.0-flash", 0.15, 0.6)]
    [InlineData("google-vertex", "publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro", 1.25, 10)]
    [InlineData("vertexai", "claude-sonnet-4-5@20250929", "claude-sonnet-4-5", 3, 15)]
    [InlineData("vertex_ai", "claude-opus-4-1@20250805", "claude-opus-4-1", 15, 75)]
    [InlineData("vertex_ai", "claude-3-5-haiku@20241022", "claude-3-5-haiku", 1, 5)]
    public void Vertex_AI_names_are_priced_by_Vertex_rows(string provider, string model, string row, decimal input, decimal output)
    {
        var price = Found(provider, model);

        Assert.Equal("vertex-ai", price.Provider);
        Assert.Equal(row, price.Model);
        Assert.Equal(input, price.InputPerMillionUsd);
        Assert.Equal(output, price.OutputPerMillionUsd);
    }

    [Fact]
    public void The_Gemini_API_keeps_its_own_gemini_2_0_flash_price()
    {
        var price = Found("google", "gemini-2.0-flash-001");

        Assert.Equal(0.1m, price.InputPerMillionUsd);
        Assert.Equal(0.4m, price.OutputPerMillionUsd);
    }

    [Fact]
    public void A_Vertex_model_without_a_Vertex_row_is_unpriced_rather_than_priced_at_the_Gemini_API_rate() =>
        Assert.Null(Catalog.Find(Workspace, "vertex_ai", "gemini-1.5-flash-002", Now));

    // Before: a new dated mistral-medium fell back to the retired mistral-medium-2312 row (2.7/8.1, up to 6.75x).
    [Fact]
    public void A_new_dated_mistral_medium_does_not_match_the_retired_2312_row() =>
        Assert.Null(Catalog.Find(Workspace, "mistral", "mistral-medium-2604", Now));

    [Theory]
    [InlineData("mistral-medium", "mistral-medium-2312", 2.7)]
    [InlineData("mistral-medium-2312", "mistral-medium-2312", 2.7)]
    [InlineData("mistral-medium-2508", "mistral-medium-2508", 0.4)]
    [InlineData("mistral-medium-latest", "mistral-medium-2508", 0.4)]
    [InlineData("mistral.mistral-large-2402-v1:0", "mistral.mistral-large-2402", 8)]
    public void Exact_and_same_date_mistral_names_still_match(string model, string row, decimal input)
    {
        var price = Found(model.StartsWith("mistral.", StringComparison.Ordinal) ? "bedrock" : "mistral", model);

        Assert.Equal(row, price.Model);
        Assert.Equal(input, price.InputPerMillionUsd);
    }

    [Theory]
    [InlineData("mistral-medium-2312", "2312")]
    [InlineData("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "20250929")]
    [InlineData("gpt-4o-2024-08-06", "2024-08-06")]
    [InlineData("command-r-08-2024", "08-2024")]
    [InlineData("gpt-4o", null)]
    [InlineData("claude-sonnet-4-5", null)]
    [InlineData("gemini-1.5-flash-002", null)]
    public void Date_stamps_are_read_from_the_end_of_a_name(string name, string? date) =>
        Assert.Equal(date, ModelNames.DateStamp(name));

    // Before: 1-hour cache writes were priced at the 5-minute rate (1.25x input).
    [Fact]
    public void Anthropic_1_hour_cache_writes_cost_twice_the_input_price()
    {
        var price = Found("anthropic", "claude-sonnet-4-5-20250929");
        // 10,000 in, of which 4,000 cache writes, of which 1,000 for an hour: 6,000 × 3 + 3,000 × 3.75 + 1,000 × 6.
        var cost = CostCalculator.Calculate(price, new TokenUsage(10_000, 0, 0, 4_000, 0, CacheWrite1hInput: 1_000));

        Assert.Equal(6m, price.CacheWrite1hPerMillionUsd);
        Assert.Equal(0.01725m, cost.CacheWrite);
        Assert.Equal(0.03525m, cost.Total);
    }

    [Fact]
    public void Above_200k_tokens_1_hour_cache_writes_cost_twice_the_long_context_input_price()
    {
        var price = Found("anthropic", "claude-sonnet-4-5");
        var cost = CostCalculator.Calculate(price, new TokenUsage(300_000, 0, 0, 100_000, 0, CacheWrite1hInput: 100_000));

        Assert.Equal(1.2m, cost.CacheWrite); // 100,000 × 12
    }

    [Fact]
    public void The_1_hour_price_row_takes_effect_exactly_at_its_effective_date()
    {
        var change = new DateTimeOffset(2025, 5, 22, 0, 0, 0, TimeSpan.Zero);

        var before = Found("anthropic", "claude-opus-4-1", change.AddTicks(-1));
        var at = Found("anthropic", "claude-opus-4-1", change);

        Assert.Null(before.CacheWrite1hPerMillionUsd);
        Assert.Equal(30m, at.CacheWrite1hPerMillionUsd);
        Assert.NotEqual(before.Id, at.Id);
        // Before the row with a 1-hour price, a 1-hour write costs the cache-write price: the cost formula falls back.
        Assert.Equal(0.01875m, CostCalculator.Calculate(before, new TokenUsage(1_000, 0, 0, 1_000, 0, 1_000)).Total);
        Assert.Equal(0.03m, CostCalculator.Calculate(at, new TokenUsage(1_000, 0, 0, 1_000, 0, 1_000)).Total);
    }

    [Theory]
    [InlineData("openai", "gpt-5-2025-08-07", "priority", 2.5, 20, 1)]
    [InlineData("openai", "gpt-5", "flex", 0.625, 5, 1)]
    [InlineData("openai", "gpt-4o", "priority", 4.25, 17, 1)]
    [InlineData("openai", "o4-mini", "flex", 0.55, 2.2, 1)]
    [InlineData("openai", "gpt-4o", "batch", 2.5, 10, 0.5)]
    [InlineData("azure", "gpt-5.1", "priority", 2.5, 20, 1)]
    [InlineData("anthropic", "claude-sonnet-4-5", "batch", 3, 15, 0.5)]
    [InlineData("bedrock", "anthropic.claude-haiku-4-5-20251001-v1:0", "batch", 1, 5, 0.5)]
    [InlineData("google", "gemini-2.5-flash", "batch", 0.3, 2.5, 0.5)]
    [InlineData("vertex_ai", "gemini-2.5-flash", "batch", 0.3, 2.5, 0.5)]
    [InlineData("openai", "gpt-4o", "standard", 2.5, 10, 1)]
    public void Service_tiers_use_the_published_tier_row_or_multiplier(string provider, string model, string tier, decimal input,
        decimal output, decimal multiplier)
    {
        var standard = Found(provider, model);
        var inTier = Catalog.InTier(standard, tier, Now);

        Assert.NotNull(inTier);
        Assert.Equal(input, inTier.Row.InputPerMillionUsd);
        Assert.Equal(output, inTier.Row.OutputPerMillionUsd);
        Assert.Equal(multiplier, inTier.Multiplier);
    }

    [Theory]
    [InlineData("groq", "llama-3.3-70b-versatile", "batch")]
    [InlineData("xai", "grok-4", "priority")]
    [InlineData("anthropic", "claude-sonnet-4-5", "priority")]
    public void A_tier_the_provider_publishes_no_price_for_has_none(string provider, string model, string tier) =>
        Assert.Null(Catalog.InTier(Found(provider, model), tier, Now));

    [Fact]
    public void A_multiplier_scales_every_part_of_the_cost()
    {
        var price = Found("anthropic", "claude-sonnet-4-5");
        var usage = new TokenUsage(10_000, 2_000, 1_000, 1_000, 0);

        var standard = CostCalculator.Calculate(price, usage);
        var batch = CostCalculator.Calculate(price, usage, 0.5m);

        Assert.Equal(standard.Total / 2, batch.Total);
        Assert.Equal(standard.CachedInput / 2, batch.CachedInput);
        Assert.Equal(standard.CacheWrite / 2, batch.CacheWrite);
    }
}
