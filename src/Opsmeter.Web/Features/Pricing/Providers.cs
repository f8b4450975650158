namespace Opsmeter.Web.Features.Pricing;

/// <summary>Provider names as clients send them, mapped onto the catalog's provider ids.</summary>
internal static class Providers
{
    private static readonly Dictionary<string, string> Synonyms = new(StringComparer.OrdinalIgnoreCase)
    {
        ["azure"] = "azure-openai",
        ["azure_openai"] = "azure-openai",
        ["azureopenai"] = "azure-openai",
        ["gemini"] = "google",
        ["google-ai"] = "google",
        ["google_genai"] = "google",
        // Vertex AI is priced by Google Cloud's own list (Features/Pricing/Catalog: provider "vertex-ai"), not the Gemini API's.
        ["vertex"] = "vertex-ai",
        ["vertex_ai"] = "vertex-ai",
        ["vertexai"] = "vertex-ai",
        ["google-vertex"] = "vertex-ai",
        ["google_vertex"] = "vertex-ai",
        ["google-vertex-ai"] = "vertex-ai",
        ["gcp.vertex_ai"] = "vertex-ai",
        ["aws"] = "bedrock",
        ["aws-bedrock"] = "bedrock",
        ["aws_bedrock"] = "bedrock",
        ["aws.bedrock"] = "bedrock",
        ["bedrock_converse"] = "bedrock",
        ["mistralai"] = "mistral",
        ["mistral_ai"] = "mistral",
        ["x-ai"] = "xai",
        ["x.ai"] = "xai",
        ["grok"] = "xai",
        ["cohere_chat"] = "cohere",
        // OpenTelemetry's gen_ai.provider.name values, and the older gen_ai.system ones.
        ["azure.ai.openai"] = "azure-openai",
        ["az.ai.openai"] = "azure-openai",
        ["gcp.gemini"] = "google",
        ["gcp.gen_ai"] = "google",
        ["x_ai"] = "xai",
    };

    public static string Normalize(string provider)
    {
        var trimmed = provider.Trim();
        return Synonyms.TryGetValue(trimmed, out var canonical) ? canonical : trimmed.ToLowerInvariant();
    }

    /// <summary>
    /// Where to look when a provider has no row for a model: Azure OpenAI serves OpenAI's models at
    /// OpenAI's list prices, and a Bedrock id such as "anthropic.claude-…" names the vendor whose list
    /// price applies.
    /// </summary>
    public static IEnumerable<string> Fallbacks(string provider, string model)
    {
        if (provider == "azure-openai")
        {
            yield return "openai";
        }
        else if (provider == "bedrock" && ModelNames.Vendor(model) is { } vendor)
        {
            yield return vendor switch
            {
                "amazon" or "meta" or "ai21" or "qwen" or "writer" => "bedrock",
                _ => vendor,
            };
        }
    }
}
