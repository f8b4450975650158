using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.Web.Features.Ingest;

public sealed record PricingReference(string Provider, string Model, Guid PriceId, DateTimeOffset EffectiveFrom);

/// <summary>The Opsmeter.io-compatible acknowledgement of one event (docs/api.md "Ingest one call").</summary>
public sealed record IngestResponse(
    bool Ok, bool Duplicate, string ExternalRequestId, decimal CostUsd, string CostStatus, PricingReference? Pricing,
    string PlanTier, IReadOnlyList<string> Warnings, bool BudgetWarning, bool BudgetExceeded, string? Reason,
    bool TelemetryPaused, bool ProviderCallsContinue, bool IsPlanLimitReached)
{
    internal static IngestResponse From(PricedEvent priced, IngestOutcome outcome, PriceCatalog catalog,
        (bool Warning, bool Exceeded) budgets = default) => new(
        Ok: true,
        Duplicate: outcome.Duplicate,
        ExternalRequestId: priced.Row.ExternalRequestId,
        CostUsd: Money.Normalize(outcome.CostUsd),
        CostStatus: outcome.CostStatus,
        Pricing: outcome.PriceId is { } id && catalog.FindById(id) is { } price
            ? new PricingReference(price.Provider, price.Model, price.Id, price.EffectiveFrom)
            : null,
        PlanTier: "self-hosted",
        Warnings: outcome.Duplicate ? [] : priced.Warnings,
        BudgetWarning: budgets.Warning,
        BudgetExceeded: budgets.Exceeded,
        Reason: null,
        TelemetryPaused: false,
        ProviderCallsContinue: true,
        IsPlanLimitReached: false);
}

/// <summary>One event's fate in a batch: created, duplicate, or rejected with its field errors.</summary>
public sealed record IngestBatchItemResult(
    int Index, string? ExternalRequestId, string Status, decimal? CostUsd, string? CostStatus,
    IReadOnlyList<string>? Warnings, IDictionary<string, string[]>? Errors);

public sealed record IngestBatchResponse(int Created, int Duplicates, int Rejected, IReadOnlyList<IngestBatchItemResult> Results);
