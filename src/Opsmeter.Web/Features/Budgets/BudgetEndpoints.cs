using Opsmeter.Web.Features.Workspaces;
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

        var incidents = app.MapGroup("/v1/incidents").WithTags("Incidents")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Admin));
        incidents.MapGet("", ManageIncidents.ListAsync).WithName("ListIncidents").WithSummary("Incidents, newest first (?state=open|acknowledged|resolved).");
        incidents.MapPost("/{id:guid}/acknowledge", ManageIncidents.AcknowledgeAsync).WithName("AcknowledgeIncident");
        incidents.MapPost("/{id:guid}/resolve", ManageIncidents.ResolveAsync).WithName("ResolveIncident");

        app.MapGet("/v1/policy", GetPolicy.Handle).WithTags("Policy").WithName("GetPolicy")
            .WithSummary("What to do before the next LLM call (?endpointTag=&promptVersion=&tenantId=&userId=&model=&provider=), from memory.")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Ingest));
        app.MapGet("/v1/diagnostics/workspace-status", WorkspaceStatus.HandleAsync).WithTags("Policy").WithName("GetWorkspaceStatus")
            .WithSummary("Budget and plan flags in the Opsmeter.io shape.")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Ingest));
        return app;
    }
}
