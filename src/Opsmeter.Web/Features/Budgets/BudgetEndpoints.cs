using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Infrastructure.Http;

namespace Opsmeter.Web.Features.Budgets;

internal static class BudgetEndpoints
{
    public static IEndpointRouteBuilder MapBudgetEndpoints(this IEndpointRouteBuilder app)
    {
        var budgets = app.MapGroup("/v1/budgets").WithTags("Budgets")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Admin));
        budgets.MapGet("", ManageBudgets.ListAsync).WithName("ListBudgets").WithSummary("The workspace's budgets, by name.");
        budgets.MapPost("", ManageBudgets.CreateAsync).WithName("CreateBudget").WithValidation<BudgetRequest>()
            .WithSummary("Creates a budget and evaluates it at once.");
        budgets.MapGet("/{id:guid}", ManageBudgets.GetAsync).WithName("GetBudget");
        budgets.MapPut("/{id:guid}", ManageBudgets.UpdateAsync).WithName("UpdateBudget").WithValidation<BudgetRequest>()
            .WithSummary("Replaces a budget's settings (omitted fields take their defaults) and evaluates it at once.");
        budgets.MapDelete("/{id:guid}", ManageBudgets.DeleteAsync).WithName("DeleteBudget").WithSummary("Deletes a budget and its incidents.");
        budgets.MapGet("/{id:guid}/status", BudgetStatus.HandleAsync).WithName("GetBudgetStatus")
            .WithSummary("The current period's exact spend, utilization, state and period-end forecast.");

        return app;
    }
}
