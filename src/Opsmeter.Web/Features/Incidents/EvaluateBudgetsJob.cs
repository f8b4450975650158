using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Policy;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Incidents;

/// <summary>What one evaluation found for one budget.</summary>
internal sealed record BudgetEvaluation(Guid BudgetId, BudgetPeriod Period, decimal SpendUsd, string State, IReadOnlyList<Incident> Changed);

/// <summary>
/// The recurring "budgets:evaluate" job (every minute, see JobsSetup): computes each budget's exact spend
/// for its current period, opens or escalates incidents, hands due notifications to the webhooks, and
/// refreshes the in-memory policy.
/// Exactly once: each budget is evaluated in a transaction that first locks its row, so two evaluations
/// (two workers, two servers, or the job and an "Evaluate now" click) take turns and the second sees the
/// first's incidents; the unique (budget, period, threshold) index backs that up.
/// </summary>
internal sealed class EvaluateBudgetsJob(OpsmeterDbContext db, NpgsqlDataSource dataSource, TimeProvider clock, PolicySnapshot policy,
    IncidentNotifier notifier, ILogger<EvaluateBudgetsJob> logger) : IBudgetChangeHandler
{
    public const string RecurringId = "budgets:evaluate";

    /// <summary>A saved budget is evaluated at once, so its state and the policy are right from the first answer.</summary>
    async Task IBudgetChangeHandler.SavedAsync(Guid budgetId, CancellationToken ct)
    {
        await EvaluateAsync(budgetId, ct);
        await policy.ReloadAsync(ct);
    }

    Task IBudgetChangeHandler.DeletedAsync(Guid budgetId, CancellationToken ct) => policy.ReloadAsync(ct);

    [Hangfire.AutomaticRetry(Attempts = 0)] // the next minute's run is the retry
    public async Task RunAsync(CancellationToken ct) => await RunAsync(workspaceId: null, ct);

    /// <summary>Evaluates every budget, or one workspace's (the dashboard's "Evaluate now").</summary>
    public async Task RunAsync(Guid? workspaceId, CancellationToken ct)
    {
        var ids = await db.Budgets.AsNoTracking()
            .Where(b => workspaceId == null || b.WorkspaceId == workspaceId)
            .OrderBy(b => b.Id).Select(b => b.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            try
            {
                await EvaluateAsync(id, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One broken budget must not stop the others, the notifications or the policy refresh.
                logger.LogError(e, "Could not evaluate budget {BudgetId}", id);
            }
        }

        await notifier.NotifyDueAsync(workspaceId, ct);
        await policy.ReloadAsync(ct);
    }

    public async Task<BudgetEvaluation?> EvaluateAsync(Guid budgetId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var budget = await db.Budgets.FromSql($"SELECT * FROM budgets WHERE id = {budgetId} FOR UPDATE").SingleOrDefaultAsync(ct);
        if (budget is null)
        {
            return null; // deleted since the list was read
        }

        var period = BudgetRules.CurrentPeriod(budget, now);
        var spend = await BudgetSpend.ForAsync(dataSource, budget, period.Start, period.End, ct);
        var incidents = await db.Incidents.Where(i => i.WorkspaceId == budget.WorkspaceId && i.BudgetId == budgetId && i.PeriodStart == period.Start).ToListAsync(ct);
        var changed = new List<Incident>();

        if (spend >= budget.LimitUsd)
        {
            if (!incidents.Any(i => i.Level == BudgetRules.Exceeded))
            {
                // Escalate the warning that is still live; only a period without one gets an incident of its own.
                var live = incidents.Where(i => i.State != IncidentStates.Resolved).MaxBy(i => i.OpenedThreshold);
                if (live is not null)
                {
                    live.Level = BudgetRules.Exceeded;
                    live.Threshold = 1m;
                    live.EscalatedAt = now;
                    live.SpendUsd = spend;
                    live.LimitUsd = budget.LimitUsd;
                    live.BudgetName = budget.Name;
                    changed.Add(live);
                }
                else
                {
                    changed.Add(Open(budget, period, 1m, BudgetRules.Exceeded, spend, now));
                }
            }
        }
        else if (BudgetRules.HighestThresholdReached(spend, budget.LimitUsd, budget.WarningThresholds) is { } threshold
                 && !incidents.Any(i => i.OpenedThreshold >= threshold))
        {
            changed.Add(Open(budget, period, threshold, BudgetRules.Warning, spend, now));
        }

        budget.EvaluatedPeriodStart = period.Start;
        budget.EvaluatedSpendUsd = spend;
        budget.EvaluatedAt = now;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        foreach (var incident in changed)
        {
            logger.LogInformation("Budget {BudgetId} {Level} at {Threshold:P0}: {SpendUsd} of {LimitUsd} USD; incident {IncidentId}",
                budget.Id, incident.Level, incident.Threshold, spend, budget.LimitUsd, incident.Id);
        }

        return new BudgetEvaluation(budget.Id, period, spend, BudgetRules.State(spend, budget.LimitUsd, budget.WarningThresholds), changed);
    }

    private Incident Open(Budget budget, BudgetPeriod period, decimal threshold, string level, decimal spend, DateTimeOffset now)
    {
        var incident = new Incident
        {
            Id = Guid.CreateVersion7(now),
            WorkspaceId = budget.WorkspaceId,
            BudgetId = budget.Id,
            BudgetName = budget.Name,
            PeriodStart = period.Start,
            PeriodEnd = period.End,
            OpenedThreshold = threshold,
            Threshold = threshold,
            Level = level,
            State = IncidentStates.Open,
            SpendUsd = spend,
            LimitUsd = budget.LimitUsd,
            OpenedAt = now,
        };
        db.Incidents.Add(incident);
        return incident;
    }
}
