using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Budgets;

/// <summary>
/// Create, read, replace and delete budgets, for <c>/v1/budgets</c> and the dashboard alike. A saved budget
/// is evaluated at once, so its state and the policy are right from the first answer. Each change leaves an audit entry
/// in the same transaction.
/// </summary>
internal static class ManageBudgets
{
    public static async Task<Budget> SaveAsync(OpsmeterDbContext db, AuditLog audit, IBudgetChangeHandler changes, TimeProvider clock,
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
        var (targetBefore, before) = id is null ? (null, null) : (Target(budget), Describe(budget));
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
        var (target, after) = (Target(budget), Describe(budget));
        if (before is null)
        {
            audit.Add(workspaceId, AuditActions.BudgetCreated, target, after: after);
        }
        else if ((target, after) != (targetBefore, before))
        {
            audit.Add(workspaceId, AuditActions.BudgetChanged, target, target == targetBefore ? before : $"{targetBefore}: {before}", after);
        }

        await db.SaveChangesAsync(ct);

        await changes.SavedAsync(budget.Id, ct);
        return budget;
    }

    public static async Task<bool> RemoveAsync(OpsmeterDbContext db, AuditLog audit, IBudgetChangeHandler changes, Guid workspaceId, Guid id,
        CancellationToken ct)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var budget = await db.Budgets.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id && b.WorkspaceId == workspaceId, ct);
            if (budget is null || await db.Budgets.Where(b => b.WorkspaceId == workspaceId && b.Id == id).ExecuteDeleteAsync(ct) == 0)
            {
                return false;
            }

            audit.Add(workspaceId, AuditActions.BudgetDeleted, Target(budget), before: Describe(budget));
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        await changes.DeletedAsync(id, ct);
        return true;
    }

    /// <summary>"support cap (endpointTag = support.reply)": which budget an audit entry is about.</summary>
    internal static string Target(Budget b) =>
        $"{b.Name} ({(b.ScopeDimension == BudgetRules.Workspace ? "whole workspace" : $"{b.ScopeDimension} = {b.ScopeValue}")})";

    /// <summary>"monthly $500.00 warn 50% 80% action block": a budget's settings in one line a person reads in the audit.</summary>
    internal static string Describe(Budget b)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{b.Period} ${b.LimitUsd:0.00####}");
        if (b.WarningThresholds.Length > 0)
        {
            text += " warn " + string.Join(" ", b.WarningThresholds.Select(t => (t * 100m).ToString("0.##", CultureInfo.InvariantCulture) + "%"));
        }

        text += " action " + b.OnExceeded + b.OnExceeded switch
        {
            "clamp" => $" to {b.MaxOutputTokens} output tokens",
            "fallback" => $" to {b.FallbackModel}",
            _ => "",
        };
        if (b.TimeZone != "UTC")
        {
            text += " in " + b.TimeZone;
        }

        return b.DataModes is ["real"] ? text : text + " on " + string.Join("+", b.DataModes) + " data";
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

    public static async Task<Created<BudgetResponse>> CreateAsync(BudgetRequest request, ClaimsPrincipal user, OpsmeterDbContext db, AuditLog audit,
        IBudgetChangeHandler changes, TimeProvider clock, CancellationToken ct)
    {
        var budget = await SaveAsync(db, audit, changes, clock, user.WorkspaceId(), null, request, ct);
        return TypedResults.Created($"/v1/budgets/{budget.Id}", BudgetResponse.From(budget));
    }

    public static async Task<Results<Ok<BudgetResponse>, NotFound>> UpdateAsync(Guid id, BudgetRequest request, ClaimsPrincipal user,
        OpsmeterDbContext db, AuditLog audit, IBudgetChangeHandler changes, TimeProvider clock, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        if (!await db.Budgets.AnyAsync(b => b.Id == id && b.WorkspaceId == workspaceId, ct))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(BudgetResponse.From(await SaveAsync(db, audit, changes, clock, workspaceId, id, request, ct)));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteAsync(Guid id, ClaimsPrincipal user, OpsmeterDbContext db, AuditLog audit,
        IBudgetChangeHandler changes, CancellationToken ct) =>
        await RemoveAsync(db, audit, changes, user.WorkspaceId(), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound();
}
