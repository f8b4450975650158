namespace Opsmeter.Web.Features.Pricing;

/// <summary>
/// What must follow a new price for a workspace: re-pricing the events it left unpriced (Repricing). Pricing calls it
/// without knowing that feature, so the dependency runs one way only.
/// </summary>
internal interface IPriceChangeHandler
{
    void PriceAdded(Guid workspaceId);

    /// <summary>After new global catalog rows: every workspace with unpriced events gets them re-priced.</summary>
    Task GlobalPricesAddedAsync(CancellationToken ct);
}
