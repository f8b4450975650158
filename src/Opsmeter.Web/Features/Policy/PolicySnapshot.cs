using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.Web.Features.Policy;

/// <summary>A budget as the policy sees it: its rules and the spend of the last evaluation, for its period.</summary>
internal sealed record BudgetStanding(Guid Id, string Name, string Dimension, string? Value, string[] DataModes, decimal LimitUsd,
    decimal[] Thresholds, string OnExceeded, int? MaxOutputTokens, string? FallbackModel, string Period, BudgetPeriod? EvaluatedPeriod, decimal SpendUsd,
    TimeZoneInfo? Zone = null, DateTimeOffset? EvaluatedAt = null)
{
    /// <summary>The budget's period that contains <paramref name="now"/>, in its own time zone.</summary>
    public BudgetPeriod PeriodAt(DateTimeOffset now) => BudgetPeriod.Containing(now, Period, Zone ?? TimeZoneInfo.Utc);

    /// <summary>The spend now: the evaluated figure while its period lasts, zero once a new period began.</summary>
    public decimal SpendAt(DateTimeOffset now) => EvaluatedPeriod is { } p && now >= p.Start && now < p.End ? SpendUsd : 0m;

    /// <param name="now">The instant asked about.</param>
    /// <param name="plusUsd">Spend not evaluated yet that counts, such as the event being acknowledged.</param>
    public string StateAt(DateTimeOffset now, decimal plusUsd = 0) => BudgetRules.State(SpendAt(now) + plusUsd, LimitUsd, Thresholds);

    public decimal UtilizationAt(DateTimeOffset now) => BudgetRules.Utilization(SpendAt(now), LimitUsd);

    public bool Applies(Func<string, string?> eventValue, string? dataMode = null) =>
        BudgetRules.Applies(Dimension, Value, DataModes, eventValue, dataMode);
}

/// <summary>A workspace's policy inputs: enforce or observe (the kill switch), and its budgets.</summary>
internal sealed record WorkspacePolicy(string Mode, IReadOnlyList<BudgetStanding> Budgets)
{
    public static readonly WorkspacePolicy Empty = new(PolicyModes.Enforce, []);

    /// <summary>
    /// Whether a budget that counts this event is in warning, or exceeded: its last evaluated spend plus this event's
    /// cost (zero for a duplicate, already counted), so the event that crosses the limit is answered exceeded.
    /// </summary>
    public (bool Warning, bool Exceeded) FlagsFor(LlmRequest row, decimal costUsd, DateTimeOffset now)
    {
        var (warning, exceeded) = (false, false);
        foreach (var budget in Budgets)
        {
            if (budget.Applies(dimension => Dimensions.ByName.TryGetValue(dimension, out var d) ? d.Value(row) : null, row.DataMode))
            {
                var state = budget.StateAt(now, costUsd);
                warning |= state == BudgetRules.Warning;
                exceeded |= state == BudgetRules.Exceeded;
            }
        }

        return (warning, exceeded);
    }
}

internal static class PolicyModes
{
    public const string Enforce = "enforce";
    public const string Observe = "observe";
}

/// <summary>
/// Every workspace's budgets and their last evaluated spend, in memory, so that <c>/v1/policy</c> and the
/// ingest response's budget flags never wait for the database. Replaced whole (readers never lock):
/// at start-up (StartupSequence), after each evaluation, after a budget or the mode changes here, and every
/// <see cref="PolicyOptions.RefreshSeconds"/> (15 by default), which is how servers that do not run the evaluation themselves catch up.
/// </summary>
internal sealed class PolicySnapshot(IServiceScopeFactory scopes, TimeProvider clock, IOptions<PolicyOptions> options, ILogger<PolicySnapshot> logger)
    : BackgroundService
{
    public int RefreshSeconds { get; } = options.Value.RefreshSeconds;
    private readonly SemaphoreSlim reloading = new(1, 1);
    private volatile FrozenDictionary<Guid, WorkspacePolicy> current = FrozenDictionary<Guid, WorkspacePolicy>.Empty;

    public WorkspacePolicy For(Guid workspaceId) => current.GetValueOrDefault(workspaceId, WorkspacePolicy.Empty);

    /// <summary>Reads every budget and mode again. One reload at a time, so an older read never replaces a newer one.</summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        await reloading.WaitAsync(ct);
        try
        {
            await LoadAsync(ct);
        }
        finally
        {
            reloading.Release();
        }
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var modes = await db.Workspaces.AsNoTracking().ToDictionaryAsync(w => w.Id, w => w.PolicyMode, ct);
        var budgets = await db.Budgets.AsNoTracking().OrderBy(b => b.Name).ToListAsync(ct);
        var byWorkspace = budgets.GroupBy(b => b.WorkspaceId).ToDictionary(g => g.Key, g => g.Select(Standing).ToList());
        current = modes.ToFrozenDictionary(m => m.Key,
            m => new WorkspacePolicy(m.Value, byWorkspace.TryGetValue(m.Key, out var list) ? list : []));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(RefreshSeconds), clock);
        while (await timer.TickAsync(stoppingToken))
        {
            try
            {
                await ReloadAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not refresh the budget policy; serving the previous one");
            }
        }
    }

    private static BudgetStanding Standing(Budget b)
    {
        var zone = BudgetRules.FindZone(b.TimeZone) ?? TimeZoneInfo.Utc;
        var period = b.EvaluatedPeriodStart is { } start ? BudgetPeriod.Containing(start, b.Period, zone) : (BudgetPeriod?)null;
        return new BudgetStanding(b.Id, b.Name, b.ScopeDimension, b.ScopeValue, b.DataModes, b.LimitUsd, b.WarningThresholds,
            b.OnExceeded, b.MaxOutputTokens, b.FallbackModel, b.Period, period, b.EvaluatedSpendUsd, zone, b.EvaluatedAt);
    }
}
