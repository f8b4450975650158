using Opsmeter.Web.Features.ApiKeys;

namespace Opsmeter.Web.Features.Policy;

internal static class PolicyEndpoints
{
    public static IEndpointRouteBuilder MapPolicyEndpoints(this IEndpointRouteBuilder app)
    {
        var policy = app.MapGroup("/v1").WithTags("Policy").RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Ingest));
        policy.MapGet("/policy", GetPolicy.Handle).WithName("GetPolicy")
            .WithSummary("What to do before the next LLM call (?endpointTag=&promptVersion=&tenantId=&userId=&model=&provider=), from memory.");
        policy.MapGet("/diagnostics/workspace-status", WorkspaceStatus.HandleAsync).WithName("GetWorkspaceStatus")
            .WithSummary("Budget and plan flags in the Opsmeter.io shape.");
        return app;
    }
}
