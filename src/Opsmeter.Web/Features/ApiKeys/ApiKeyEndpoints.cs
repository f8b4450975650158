using Opsmeter.Web.Infrastructure.Http;

namespace Opsmeter.Web.Features.ApiKeys;

internal static class ApiKeyEndpoints
{
    public static IEndpointRouteBuilder MapApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/keys").WithTags("Keys")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Admin));
        keys.MapGet("", ManageApiKeys.ListAsync).WithName("ListApiKeys")
            .WithSummary("The workspace's API keys, revoked ones included, oldest first; never a secret.");
        keys.MapPost("", ManageApiKeys.CreateAsync).WithName("CreateApiKey").WithValidation<ApiKeyRequest>()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Creates a key with some of the calling key's own scopes; the answer holds its secret, shown this once.");
        keys.MapDelete("/{id:guid}", ManageApiKeys.RevokeAsync).WithName("RevokeApiKey")
            .WithSummary("Revokes a key at once; the calling key may revoke itself.");
        return app;
    }
}
