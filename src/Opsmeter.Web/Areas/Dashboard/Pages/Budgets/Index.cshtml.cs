using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Budgets;

internal sealed record BudgetRow(Budget Budget, BudgetStatusResponse Status, int OpenIncidents);

/// <summary>Budgets with their current period's exact spend, utilization bar and period-end forecast; "Evaluate now".</summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, NpgsqlDataSource dataSource, EvaluateBudgetsJob evaluator,
    TimeProvider clock) : DashboardPageModel(current)
{
    public override string Nav => "budgets";

    public List<BudgetRow> Rows { get; } = [];

    [TempData]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var budgets = await db.Budgets.AsNoTracking().Where(b => b.WorkspaceId == Membership.WorkspaceId).OrderBy(b => b.Name).ToListAsync(ct);
        var open = await db.Incidents.AsNoTracking()
            .Where(i => i.WorkspaceId == Membership.WorkspaceId && i.State != IncidentStates.Resolved)
            .GroupBy(i => i.BudgetId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        foreach (var budget in budgets)
        {
            Rows.Add(new BudgetRow(budget, await BudgetStatus.ForAsync(dataSource, budget, now, ct), open.GetValueOrDefault(budget.Id)));
        }

        return Page();
    }

    /// <summary>Runs the evaluation for this workspace now, instead of waiting for the next minute.</summary>
    [AllowMembers]
    public async Task<IActionResult> OnPostEvaluateAsync(CancellationToken ct)
    {
        await evaluator.RunAsync(Membership.WorkspaceId, ct);
        Message = "Budgets evaluated.";
        return RedirectToPage();
    }
}
