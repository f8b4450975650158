namespace Opsmeter.Web.Features.Budgets;

/// <summary>
/// What must follow a change to a workspace's budgets, done by the features built on them: evaluating a saved budget at
/// once (Incidents) and reloading the in-memory policy. Budgets call it without knowing them, so the dependency runs
/// one way only (they import Budgets, Budgets imports neither).
/// </summary>
internal interface IBudgetChangeHandler
{
    Task SavedAsync(Guid budgetId, CancellationToken ct);

    Task DeletedAsync(Guid budgetId, CancellationToken ct);
}
