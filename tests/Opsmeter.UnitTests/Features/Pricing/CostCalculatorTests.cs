using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.UnitTests.Features.Pricing;

/// <summary>docs/api.md "Pricing catalog": the cost formula, every expected value computed by hand in decimal.</summary>
public sealed class CostCalculatorTests
{
    private static ModelPrice Price(
        decimal input, decimal output, decimal? cached = null, decimal? cacheWrite = null, decimal? reasoning = null,
        long? threshold = null, decimal? longInput = null, decimal? longOutput = null,
        decimal? longCached = null, decimal? longCacheWrite = null) => new()
        {
            Id = Guid.NewGuid(),
            Provider = "test",
            Model = "test-model",
            EffectiveFrom = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
            InputPerMillionUsd = input,
            OutputPerMillionUsd = output,
            CachedInputPerMillionUsd = cached,
            CacheWritePerMillionUsd = cacheWrite,
            ReasoningPerMillionUsd = reasoning,
            LongContextThresholdTokens = threshold,
            LongContextInputPerMillionUsd = longInput,
            LongContextOutputPerMillionUsd = longOutput,
            LongContextCachedInputPerMillionUsd = longCached,
            LongContextCacheWritePerMillionUsd = longCacheWrite,
            Source = "unit-test",
        };

    // claude-sonnet-4-5 as shipped: $3 in, $15 out, $0.30 cache read, $3.75 cache write;
    // above 200,000 input tokens: $6 in, $22.50 out, $0.60 cache read, $7.50 cache write.
    private static ModelPrice SonnetWithLongContext() =>
        Price(3m, 15m, cached: 0.3m, cacheWrite: 3.75m, threshold: 200_000, longInput: 6m, longOutput: 22.5m, longCached: 0.6m, longCacheWrite: 7.5m);

    [Fact]
    public void Plain_input_and_output()
    {
        // gpt-4o: $2.50 in, $10 out. 1,000·2.5/1e6 = 0.0025; 200·10/1e6 = 0.002; total 0.0045
        var cost = CostCalculator.Calculate(Price(2.5m, 10m), new TokenUsage(1_000, 200, 0, 0, 0));

        Assert.Equal(0.0025m, cost.Input);
        Assert.Equal(0m, cost.CachedInput);
        Assert.Equal(0m, cost.CacheWrite);
        Assert.Equal(0.002m, cost.Output);
        Assert.Equal(0m, cost.Reasoning);
        Assert.Equal(0.0045m, cost.Total);
    }

    [Fact]
    public void Cached_reads_use_the_cached_price_openai_style()
    {
        // gpt-4o: $2.50 in, $1.25 cached, $10 out. 10,000 input of which 4,000 cached, 500 output:
        // (10,000 − 4,000)·2.5/1e6 = 0.015; 4,000·1.25/1e6 = 0.005; 500·10/1e6 = 0.005; total 0.025
        var cost = CostCalculator.Calculate(Price(2.5m, 10m, cached: 1.25m), new TokenUsage(10_000, 500, 4_000, 0, 0));

        Assert.Equal(0.015m, cost.Input);
        Assert.Equal(0.005m, cost.CachedInput);
        Assert.Equal(0.005m, cost.Output);
        Assert.Equal(0.025m, cost.Total);
    }

    [Fact]
    public void Null_cached_and_cache_write_prices_fall_back_to_the_input_price()
    {
        // $3 in, no cached or cache-write price, $15 out. 10,000 input = 5,000 plain + 4,000 cached + 1,000 written; 1,000 output:
        // 5,000·3/1e6 = 0.015; 4,000·3/1e6 = 0.012; 1,000·3/1e6 = 0.003; 1,000·15/1e6 = 0.015; total 0.045
        var cost = CostCalculator.Calculate(Price(3m, 15m), new TokenUsage(10_000, 1_000, 4_000, 1_000, 0));

        Assert.Equal(0.015m, cost.Input);
        Assert.Equal(0.012m, cost.CachedInput);
        Assert.Equal(0.003m, cost.CacheWrite);
        Assert.Equal(0.015m, cost.Output);
        Assert.Equal(0.045m, cost.Total);
    }

    [Fact]
    public void Cache_reads_and_writes_anthropic_style()
    {
        // claude-sonnet-4-5: 20,000 input = 5,000 plain + 10,000 cache reads + 5,000 cache writes; 2,000 output:
        // 5,000·3/1e6 = 0.015; 10,000·0.30/1e6 = 0.003; 5,000·3.75/1e6 = 0.01875; 2,000·15/1e6 = 0.03
        // total 0.015 + 0.003 + 0.01875 + 0.03 = 0.06675
        var cost = CostCalculator.Calculate(SonnetWithLongContext(), new TokenUsage(20_000, 2_000, 10_000, 5_000, 0));

        Assert.Equal(0.015m, cost.Input);
        Assert.Equal(0.003m, cost.CachedInput);
        Assert.Equal(0.01875m, cost.CacheWrite);
        Assert.Equal(0.03m, cost.Output);
        Assert.Equal(0.06675m, cost.Total);
    }

    [Fact]
    public void Reasoning_tokens_with_their_own_price()
    {
        // gemini-2.5-flash-preview-04-17: $0.15 in, $0.60 out, $3.50 reasoning. 1,000 input; 10,000 output of which 8,000 reasoning:
        // 1,000·0.15/1e6 = 0.00015; 2,000·0.6/1e6 = 0.0012; 8,000·3.5/1e6 = 0.028; total 0.02935
        var cost = CostCalculator.Calculate(Price(0.15m, 0.6m, reasoning: 3.5m), new TokenUsage(1_000, 10_000, 0, 0, 8_000));

        Assert.Equal(0.00015m, cost.Input);
        Assert.Equal(0.0012m, cost.Output);
        Assert.Equal(0.028m, cost.Reasoning);
        Assert.Equal(0.02935m, cost.Total);
    }

    [Fact]
    public void Reasoning_tokens_without_a_reasoning_price_cost_the_output_price()
    {
        // o3: $2 in, $8 out, no reasoning price. 1,000 input; 10,000 output of which 8,000 reasoning:
        // 1,000·2/1e6 = 0.002; 2,000·8/1e6 = 0.016; 8,000·8/1e6 = 0.064; total 0.082 (= 0.002 + 10,000·8/1e6)
        var cost = CostCalculator.Calculate(Price(2m, 8m), new TokenUsage(1_000, 10_000, 0, 0, 8_000));

        Assert.Equal(0.002m, cost.Input);
        Assert.Equal(0.016m, cost.Output);
        Assert.Equal(0.064m, cost.Reasoning);
        Assert.Equal(0.082m, cost.Total);
    }

    [Fact]
    public void Above_the_threshold_all_tokens_use_long_context_prices()
    {
        // 250,000 input (> 200,000) = 180,000 plain + 50,000 cache reads + 20,000 cache writes; 10,000 output:
        // 180,000·6/1e6 = 1.08; 50,000·0.60/1e6 = 0.03; 20,000·7.50/1e6 = 0.15; 10,000·22.5/1e6 = 0.225
        // total 1.08 + 0.03 + 0.15 + 0.225 = 1.485
        var cost = CostCalculator.Calculate(SonnetWithLongContext(), new TokenUsage(250_000, 10_000, 50_000, 20_000, 0));

        Assert.Equal(1.08m, cost.Input);
        Assert.Equal(0.03m, cost.CachedInput);
        Assert.Equal(0.15m, cost.CacheWrite);
        Assert.Equal(0.225m, cost.Output);
        Assert.Equal(1.485m, cost.Total);
    }

    [Fact]
    public void Exactly_at_the_threshold_is_not_long_context()
    {
        // 200,000 input (= threshold, not above): 200,000·3/1e6 = 0.6; 1,000·15/1e6 = 0.015; total 0.615
        var cost = CostCalculator.Calculate(SonnetWithLongContext(), new TokenUsage(200_000, 1_000, 0, 0, 0));

        Assert.Equal(0.6m, cost.Input);
        Assert.Equal(0.015m, cost.Output);
        Assert.Equal(0.615m, cost.Total);
    }

    [Fact]
    public void One_token_above_the_threshold_is_long_context()
    {
        // 200,001 input: 200,001·6/1e6 = 1.200006; 1,000·22.5/1e6 = 0.0225; total 1.222506
        var cost = CostCalculator.Calculate(SonnetWithLongContext(), new TokenUsage(200_001, 1_000, 0, 0, 0));

        Assert.Equal(1.200006m, cost.Input);
        Assert.Equal(0.0225m, cost.Output);
        Assert.Equal(1.222506m, cost.Total);
    }

    [Fact]
    public void Long_context_without_any_cached_price_falls_back_to_the_long_context_input_price()
    {
        // gemini-1.5-pro (2024): $3.50/$10.50, above 128,000: $7/$21, no cached price at all.
        // 200,000 input of which 100,000 cached; 1,000 output:
        // 100,000·7/1e6 = 0.7; 100,000·7/1e6 = 0.7; 1,000·21/1e6 = 0.021; total 1.421
        var price = Price(3.5m, 10.5m, threshold: 128_000, longInput: 7m, longOutput: 21m);
        var cost = CostCalculator.Calculate(price, new TokenUsage(200_000, 1_000, 100_000, 0, 0));

        Assert.Equal(0.7m, cost.Input);
        Assert.Equal(0.7m, cost.CachedInput);
        Assert.Equal(0.021m, cost.Output);
        Assert.Equal(1.421m, cost.Total);
    }

    [Fact]
    public void Long_context_without_a_long_context_cached_price_keeps_the_base_cached_price()
    {
        // grok-4: $3/$15, cached $0.75, above 128,000: $6/$30 and no long-context cached price.
        // 200,000 input of which 100,000 cached; 1,000 output:
        // 100,000·6/1e6 = 0.6; 100,000·0.75/1e6 = 0.075; 1,000·30/1e6 = 0.03; total 0.705
        var price = Price(3m, 15m, cached: 0.75m, threshold: 128_000, longInput: 6m, longOutput: 30m);
        var cost = CostCalculator.Calculate(price, new TokenUsage(200_000, 1_000, 100_000, 0, 0));

        Assert.Equal(0.6m, cost.Input);
        Assert.Equal(0.075m, cost.CachedInput);
        Assert.Equal(0.03m, cost.Output);
        Assert.Equal(0.705m, cost.Total);
    }

    [Fact]
    public void Zero_tokens_cost_nothing()
    {
        var cost = CostCalculator.Calculate(SonnetWithLongContext(), new TokenUsage(0, 0, 0, 0, 0));

        Assert.Equal(CostBreakdown.Zero, cost);
        Assert.Equal(0m, cost.Total);
    }

    [Fact]
    public void Total_is_rounded_to_ten_decimals_while_the_parts_stay_exact()
    {
        // $0.12345678 in, $0.00000005 out (numeric(18,8) allows 8 decimals), 1 token each:
        // input 1·0.12345678/1e6 = 0.00000012345678 (14 decimals); output 1·0.00000005/1e6 = 0.00000000000005
        // exact sum 0.00000012345683 → 10 decimals: 0.0000001234|5683 → 0.0000001235
        var cost = CostCalculator.Calculate(Price(0.12345678m, 0.00000005m), new TokenUsage(1, 1, 0, 0, 0));

        Assert.Equal(0.00000012345678m, cost.Input);
        Assert.Equal(0.00000000000005m, cost.Output);
        Assert.Equal(0.0000001235m, cost.Total);
    }

    [Fact]
    public void Total_rounds_a_midpoint_away_from_zero()
    {
        // $0.00005 in, 1 token: 1·0.00005/1e6 = 0.00000000005 (exactly half of the 10th decimal) → 0.0000000001
        var cost = CostCalculator.Calculate(Price(0.00005m, 0m), new TokenUsage(1, 0, 0, 0, 0));

        Assert.Equal(0.00000000005m, cost.Input);
        Assert.Equal(0.0000000001m, cost.Total);
    }
}
