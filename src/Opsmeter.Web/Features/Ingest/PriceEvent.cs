using System.Text.Json;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>An event ready to store: the row, the price that priced it (if any) and what the client should be told.</summary>
internal sealed record PricedEvent(LlmRequest Row, ModelPrice? Price, IReadOnlyList<string> Warnings);

/// <summary>Turns a validated request into a priced row: defaults, cost parts and warnings (docs/api.md "Ingest one call").</summary>
internal static class PriceEvent
{
    public const string Unknown = "unknown";

    public static PricedEvent From(IngestEventRequest request, Guid workspaceId, DateTimeOffset receivedAt, PriceCatalog catalog)
    {
        var warnings = new List<string>(0);
        var externalRequestId = request.ExternalRequestId;
        if (string.IsNullOrWhiteSpace(externalRequestId))
        {
            externalRequestId = "om_" + Guid.CreateVersion7(receivedAt).ToString("N");
            warnings.Add($"externalRequestId was missing; the server assigned '{externalRequestId}'. Send your own to make retries idempotent.");
        }

        var input = request.InputTokens!.Value;
        var output = request.OutputTokens!.Value;
        var total = request.TotalTokens ?? input + output;
        if (total != input + output)
        {
            warnings.Add($"totalTokens ({total}) differs from inputTokens + outputTokens ({input + output}); the value sent is stored.");
        }

        var occurredAt = (request.When ?? receivedAt).ToUniversalTime();
        var usage = new TokenUsage(input, output, request.CachedInputTokens ?? 0, request.CacheWriteInputTokens ?? 0, request.ReasoningTokens ?? 0,
            request.CacheWrite1hInputTokens ?? 0);
        var tier = ServiceTiers.Normalize(request.ServiceTier);
        // Money has at most 10 decimals on the wire and in the database; round the client's figure once, here.
        var clientCost = request.CostUsd is { } reported ? CostBreakdown.Round(reported) : (decimal?)null;
        var providerReported = string.Equals(request.CostReportedBy, CostReporters.Provider, StringComparison.OrdinalIgnoreCase);
        var (price, cost) = providerReported ? ((ModelPrice?)null, CostBreakdown.Zero) : Priced(request, workspaceId, occurredAt, tier, usage, catalog, warnings);
        var (costStatus, costSource) = (price, clientCost) switch
        {
            _ when providerReported => (CostStatuses.Priced, CostSources.ProviderReported),
            (not null, _) => (CostStatuses.Priced, price.WorkspaceId is null ? CostSources.Catalog : CostSources.Override),
            (null, not null) => (CostStatuses.ClientReported, CostSources.ClientReported),
            _ => (CostStatuses.Unpriced, (string?)null),
        };
        if (price is null && !providerReported)
        {
            warnings.Add($"No catalog price for provider '{request.Provider}' model '{request.Model}': stored as {costStatus}.");
        }

        var row = new LlmRequest
        {
            WorkspaceId = workspaceId,
            Id = Guid.CreateVersion7(receivedAt),
            ExternalRequestId = externalRequestId,
            Provider = request.Provider!.Trim(),
            Model = request.Model!.Trim(),
            EndpointTag = OrUnknown(request.EndpointTag),
            PromptVersion = OrUnknown(request.PromptVersion),
            UserId = request.UserId,
            TenantId = request.Tenant,
            FeatureTag = request.Feature,
            InputTokens = input,
            OutputTokens = output,
            TotalTokens = total,
            CachedInputTokens = usage.CachedInput,
            CacheWriteInputTokens = usage.CacheWriteInput,
            CacheWrite1hInputTokens = usage.CacheWrite1hInput,
            ReasoningTokens = usage.Reasoning,
            LatencyMs = (int?)request.LatencyMs,
            Status = request.Status!.ToLowerInvariant(),
            ErrorCode = request.ErrorCode,
            DataMode = request.DataMode?.ToLowerInvariant() ?? DataModes.Real,
            Environment = request.Environment?.ToLowerInvariant() ?? EventEnvironments.Prod,
            OccurredAt = occurredAt,
            ReceivedAt = receivedAt,
            ClientCostUsd = clientCost,
            CostUsd = costSource is CostSources.ClientReported or CostSources.ProviderReported ? clientCost!.Value : cost.Total,
            CostStatus = costStatus,
            ServiceTier = tier,
            CostSource = costSource,
            PriceId = price?.Id,
            InputCostUsd = CostBreakdown.Round(cost.Input),
            CachedInputCostUsd = CostBreakdown.Round(cost.CachedInput),
            CacheWriteCostUsd = CostBreakdown.Round(cost.CacheWrite),
            OutputCostUsd = CostBreakdown.Round(cost.Output),
            ReasoningCostUsd = CostBreakdown.Round(cost.Reasoning),
            Metadata = StoredMetadata(request.Metadata),
        };
        return new PricedEvent(row, price, warnings);
    }

    /// <summary>The catalog's price of the call in its service tier and its cost (docs/api.md "Pricing catalog").</summary>
    private static (ModelPrice? Price, CostBreakdown Cost) Priced(IngestEventRequest request, Guid workspaceId, DateTimeOffset occurredAt,
        string tier, TokenUsage usage, PriceCatalog catalog, List<string> warnings)
    {
        var (price, cost, tierUnpublished) = catalog.Price(workspaceId, request.Provider!, request.Model!, occurredAt, tier, usage);
        if (tierUnpublished)
        {
            warnings.Add($"No published {tier} price for provider '{request.Provider}' model '{request.Model}': priced at the standard price.");
        }

        return (price, cost);
    }

    /// <summary>The metadata as stored: <c>null</c> values mean absent and are dropped; nothing left is no metadata.</summary>
    private static string? StoredMetadata(Dictionary<string, JsonElement>? metadata)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return null;
        }

        var kept = metadata;
        foreach (var value in metadata.Values)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                kept = metadata.Where(p => p.Value.ValueKind != JsonValueKind.Null).ToDictionary();
                break;
            }
        }

        return kept.Count == 0 ? null : JsonSerializer.Serialize(kept, IngestJsonContext.Default.DictionaryStringJsonElement);
    }

    private static string OrUnknown(string? value) => string.IsNullOrWhiteSpace(value) ? Unknown : value;

}
