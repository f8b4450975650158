using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Budgets;

public sealed record BudgetStatusResponse(Guid BudgetId, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, decimal SpendUsd, decimal LimitUsd,
    decimal UtilizationRatio, string State, decimal ForecastUsd);

/// <summary><c>GET /v1/budgets/{id}/status</c> and the budgets page: the current period's exact spend, read now, and its forecast.</summary>
internal static class BudgetStatus
{
    public static async Task<BudgetStatusResponse> ForAsync(NpgsqlDataSource dataSource, Budget budget, DateTimeOffset now, CancellationToken ct)
    {
        var period = BudgetRules.CurrentPeriod(budget, now);
        var spend = await BudgetSpend.ForAsync(dataSource, budget, period.Start, period.End, ct);
        return new BudgetStatusResponse(budget.Id, period.Start, period.End, spend, Pricing.Money.Normalize(budget.LimitUsd),
            BudgetRules.Utilization(spend, budget.LimitUsd), BudgetRules.State(spend, budget.LimitUsd, budget.WarningThresholds),
            BudgetRules.Forecast(spend, period, now));
    }

    public static async Task<Results<Ok<BudgetStatusResponse>, NotFound>> HandleAsync(Guid id, ClaimsPrincipal user, OpsmeterDbContext db,
        NpgsqlDataSource dataSource, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        var budget = await db.Budgets.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id && b.WorkspaceId == workspaceId, ct);
        return budget is null ? TypedResults.NotFound() : TypedResults.Ok(await ForAsync(dataSource, budget, clock.GetUtcNow(), ct));
    }
}
