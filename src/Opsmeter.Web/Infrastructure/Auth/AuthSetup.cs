using Microsoft.AspNetCore.Authentication;
using Opsmeter.Web.Features.Workspaces;

namespace Opsmeter.Web.Infrastructure.Auth;

internal static class AuthSetup
{
    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services)
    {
        services.AddMemoryCache(o => o.SizeLimit = 100_000);
        services.AddSingleton<ApiKeyStore>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        var authorization = services.AddAuthorizationBuilder();
        foreach (var scope in ApiKeyScopes.All)
        {
            authorization.AddPolicy(ApiKeyScopes.Policy(scope), policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope));
        }

        return services;
    }
}
