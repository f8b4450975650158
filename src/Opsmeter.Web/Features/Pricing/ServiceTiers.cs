namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// The service tiers an event can be served in (docs/api.md "Pricing catalog"). A tier is priced, in this order, by
/// the model's own row of that tier where the provider publishes per-model tier prices (OpenAI's priority and flex
/// lists), else by the provider's published flat multiplier of the standard price (batch: half price at every
/// provider below; flex at OpenAI: half price), else at the standard price with a warning.
/// </summary>
internal static class ServiceTiers
{
    public const string Standard = "standard";
    public const string Flex = "flex";
    public const string Priority = "priority";
    public const string Batch = "batch";

    public static readonly string[] All = [Standard, Flex, Priority, Batch];

    private static readonly Dictionary<(string Provider, string Tier), decimal> Multipliers = new()
    {
        // Batch APIs: 50 % of the standard price (OpenAI, Azure OpenAI Global Batch, Anthropic Message Batches,
        // Bedrock batch inference, Gemini API Batch Mode, Vertex AI batch prediction, Mistral batch).
        [("openai", Batch)] = 0.5m,
        [("azure-openai", Batch)] = 0.5m,
        [("anthropic", Batch)] = 0.5m,
        [("bedrock", Batch)] = 0.5m,
        [("google", Batch)] = 0.5m,
        [("vertex-ai", Batch)] = 0.5m,
        [("mistral", Batch)] = 0.5m,
        // OpenAI Flex processing: the Batch prices, 50 % of standard, for the models that offer it.
        [("openai", Flex)] = 0.5m,
    };

    /// <summary>The tier as stored: lower case, <see cref="Standard"/> when absent.</summary>
    public static string Normalize(string? tier) => string.IsNullOrWhiteSpace(tier) ? Standard : tier.Trim().ToLowerInvariant();

    /// <summary>The provider's flat multiplier of the standard price for <paramref name="tier"/>, if it publishes one.</summary>
    public static decimal? Multiplier(string provider, string tier) =>
        tier == Standard ? 1m : Multipliers.TryGetValue((Providers.Normalize(provider), tier), out var m) ? m : null;
}
