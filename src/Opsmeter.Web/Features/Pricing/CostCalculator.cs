namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// Token counts of one call as the wire contract defines them: cached, cache-write and reasoning are parts of the totals,
/// and the 1-hour cache writes are part of the cache writes.
/// </summary>
internal readonly record struct TokenUsage(long Input, long Output, long CachedInput, long CacheWriteInput, long Reasoning, long CacheWrite1hInput = 0);

/// <summary>The cost of one call, part by part. Parts are exact; only <see cref="Total"/> is rounded.</summary>
internal readonly record struct CostBreakdown(decimal Input, decimal CachedInput, decimal CacheWrite, decimal Output, decimal Reasoning)
{
    public const int Decimals = 10;

    public decimal Total => Round(Input + CachedInput + CacheWrite + Output + Reasoning);

    /// <summary>An amount as stored (numeric(20,10)): 10 decimals, midpoint away from zero.</summary>
    public static decimal Round(decimal amount) => Math.Round(amount, Decimals, MidpointRounding.AwayFromZero);

    public static CostBreakdown Zero => default;
}

/// <summary>The cost formula of docs/api.md ("Pricing catalog"), in decimal end to end.</summary>
internal static class CostCalculator
{
    private const decimal TokensPerUnit = 1_000_000m;

    /// <summary>The cost of <paramref name="usage"/> at <paramref name="price"/>, each price times <paramref name="multiplier"/> (a service tier's).</summary>
    public static CostBreakdown Calculate(ModelPrice price, TokenUsage usage, decimal multiplier = 1m)
    {
        var longContext = price.LongContextThresholdTokens is { } threshold && usage.Input > threshold;
        var input = longContext ? price.LongContextInputPerMillionUsd ?? price.InputPerMillionUsd : price.InputPerMillionUsd;
        var output = longContext ? price.LongContextOutputPerMillionUsd ?? price.OutputPerMillionUsd : price.OutputPerMillionUsd;
        var cached = (longContext ? price.LongContextCachedInputPerMillionUsd : null) ?? price.CachedInputPerMillionUsd ?? input;
        var cacheWrite = (longContext ? price.LongContextCacheWritePerMillionUsd : null) ?? price.CacheWritePerMillionUsd ?? input;
        var cacheWrite1h = (longContext ? price.LongContextCacheWrite1hPerMillionUsd : null) ?? price.CacheWrite1hPerMillionUsd ?? cacheWrite;
        var reasoning = price.ReasoningPerMillionUsd ?? output;

        var plainInput = usage.Input - usage.CachedInput - usage.CacheWriteInput;
        var plainOutput = usage.Output - usage.Reasoning;
        return new CostBreakdown(
            Input: plainInput * input * multiplier / TokensPerUnit,
            CachedInput: usage.CachedInput * cached * multiplier / TokensPerUnit,
            CacheWrite: ((usage.CacheWriteInput - usage.CacheWrite1hInput) * cacheWrite + usage.CacheWrite1hInput * cacheWrite1h) * multiplier / TokensPerUnit,
            Output: plainOutput * output * multiplier / TokensPerUnit,
            Reasoning: usage.Reasoning * reasoning * multiplier / TokensPerUnit);
    }
}
