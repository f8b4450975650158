namespace Opsmeter.Web.Features.Pricing;

/// <summary>Token counts of one call as the wire contract defines them: cached, cache-write and reasoning are parts of the totals.</summary>
internal readonly record struct TokenUsage(long Input, long Output, long CachedInput, long CacheWriteInput, long Reasoning);

/// <summary>The cost of one call, part by part. Parts are exact; only <see cref="Total"/> is rounded.</summary>
internal readonly record struct CostBreakdown(decimal Input, decimal CachedInput, decimal CacheWrite, decimal Output, decimal Reasoning)
{
    public const int Decimals = 10;

    public decimal Total => Math.Round(Input + CachedInput + CacheWrite + Output + Reasoning, Decimals, MidpointRounding.AwayFromZero);

    public static CostBreakdown Zero => default;
}

/// <summary>The cost formula of docs/api.md ("Pricing catalog"), in decimal end to end.</summary>
internal static class CostCalculator
{
    private const decimal TokensPerUnit = 1_000_000m;

    public static CostBreakdown Calculate(ModelPrice price, TokenUsage usage)
    {
        var longContext = price.LongContextThresholdTokens is { } threshold && usage.Input > threshold;
        var input = longContext ? price.LongContextInputPerMillionUsd ?? price.InputPerMillionUsd : price.InputPerMillionUsd;
        var output = longContext ? price.LongContextOutputPerMillionUsd ?? price.OutputPerMillionUsd : price.OutputPerMillionUsd;
        var cached = (longContext ? price.LongContextCachedInputPerMillionUsd : null) ?? price.CachedInputPerMillionUsd ?? input;
        var cacheWrite = (longContext ? price.LongContextCacheWritePerMillionUsd : null) ?? price.CacheWritePerMillionUsd ?? input;
        var reasoning = price.ReasoningPerMillionUsd ?? output;

        var plainInput = usage.Input - usage.CachedInput - usage.CacheWriteInput;
        var plainOutput = usage.Output - usage.Reasoning;
        return new CostBreakdown(
            Input: plainInput * input / TokensPerUnit,
            CachedInput: usage.CachedInput * cached / TokensPerUnit,
            CacheWrite: usage.CacheWriteInput * cacheWrite / TokensPerUnit,
            Output: plainOutput * output / TokensPerUnit,
            Reasoning: usage.Reasoning * reasoning / TokensPerUnit);
    }
}
