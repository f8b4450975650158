using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Budgets;

/// <summary>
/// Create, read, replace and delete budgets, for <c>/v1/budgets</c> and the dashboard alike. A saved budget
/// is evaluated at once, so its state and the policy are right from the first answer.
/// </summary>
internal static class ManageBudgets
{
    public static async Task<Budget> SaveAsync(OpsmeterDbContext db, IBudgetChangeHandler changes, TimeProvider clock,
        Guid workspaceId, Guid? id, BudgetRequest request, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var budget = id is null
            ? db.Budgets.Add(new Budget
            {
                Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, CreatedAt = now,
                Name = "", ScopeDimension = BudgetRules.Workspace, Period = BudgetRules.Monthly, TimeZone = "UTC", OnExceeded = "warn",
            }).Entity
            : await db.Budgets.SingleAsync(b => b.Id == id && b.WorkspaceId == workspaceId, ct);
        var dimension = request.Scope?.Dimension ?? BudgetRules.Workspace;
        budget.Name = request.Name!.Trim();
        budget.ScopeDimension = dimension;
        budget.ScopeValue = dimension == BudgetRules.Workspace ? null : request.Scope!.Value;
        budget.Period = request.Period ?? BudgetRules.Monthly;
        budget.TimeZone = request.TimeZone ?? "UTC";
        budget.LimitUsd = request.LimitUsd!.Value;
        budget.WarningThresholds = [.. (request.WarningThresholds ?? BudgetRequest.DefaultThresholds).Order()];
        budget.OnExceeded = request.OnExceeded ?? "warn";
        budget.MaxOutputTokens = request.MaxOutputTokens;
        budget.FallbackModel = request.FallbackModel;
        budget.DataModes = request.DataModes is { Length: > 0 } modes ? [.. modes.Distinct()] : ["real"];
        budget.UpdatedAt = now;
        // A new scope or period makes the last evaluation meaningless.
        budget.EvaluatedPeriodStart = null;
        budget.EvaluatedSpendUsd = 0;
        await db.SaveChangesAsync(ct);

        await changes.SavedAsync(budget.Id, ct);
        return budget;
    }

    public static async Task<bool> RemoveAsync(OpsmeterDbContext db, IBudgetChangeHandler changes, Guid workspaceId, Guid id, CancellationToken ct)
    {
        var deleted = await db.Budgets.Where(b => b.Id == id && b.WorkspaceId == workspaceId).ExecuteDeleteAsync(ct) > 0;
        await changes.DeletedAsync(id, ct);
        return deleted;
    }

    public static async Task<Ok<List<BudgetResponse>>> ListAsync(ClaimsPrincipal user, OpsmeterDbContext db, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        var budgets = await db.Budgets.AsNoTracking().Where(b => b.WorkspaceId == workspaceId).OrderBy(b => b.Name).ToListAsync(ct);
        return TypedResults.Ok(budgets.ConvertAll(BudgetResponse.From));
    }

    public static async Task<Results<Ok<BudgetResponse>, NotFound>> GetAsync(Guid id, ClaimsPrincipal user, OpsmeterDbContext db, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        var budget = await db.Budgets.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id && b.WorkspaceId == workspaceId, ct);
        return budget is null ? TypedResults.NotFound() : TypedResults.Ok(BudgetResponse.From(budget));
    }

    public static async Task<Created<BudgetResponse>> CreateAsync(BudgetRequest request, ClaimsPrincipal user, OpsmeterDbContext db,
        IBudgetChangeHandler changes, TimeProvider clock, CancellationToken ct)
    {
        var budget = await SaveAsync(db, changes, clock, user.WorkspaceId(), null, request, ct);
        return TypedResults.Created($"/v1/budgets/{budget.Id}", BudgetResponse.From(budget));
    }

    public static async Task<Results<Ok<BudgetResponse>, NotFound>> UpdateAsync(Guid id, BudgetRequest request, ClaimsPrincipal user,
        OpsmeterDbContext db, IBudgetChangeHandler changes, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        if (!await db.Budgets.AnyAsync(b => b.Id == id && b.WorkspaceId == workspaceId, ct))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(BudgetResponse.From(await SaveAsync(db, changes, clock, workspaceId, id, request, ct)));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteAsync(Guid id, ClaimsPrincipal user, OpsmeterDbContext db, IBudgetChangeHandler changes,
        CancellationToken ct) =>
        await RemoveAsync(db, changes, user.WorkspaceId(), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound();
}
