using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.ApiKeys;

namespace Opsmeter.Web.Infrastructure.Auth;

/// <summary>Authenticates machine calls by <c>X-API-Key</c> (or <c>Authorization: Bearer</c>) into workspace and scope claims.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys, ApiKeyUsage usage)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    public const string WorkspaceClaim = "workspace_id";
    public const string ScopeClaim = "scope";
    public const string KeyPrefixClaim = "key_prefix";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request);
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        var grant = await keys.FindAsync(presented, Context.RequestAborted);
        if (grant is null)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        usage.Record(grant.WorkspaceId, grant.KeyId);
        Claim[] claims =
        [
            new(WorkspaceClaim, grant.WorkspaceId.ToString()),
            new(KeyPrefixClaim, grant.Prefix),
            .. grant.Scopes.Select(scope => new Claim(ScopeClaim, scope)),
        ];
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrWhiteSpace(header))
        {
            return header.ToString().Trim();
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7
            ? authorization[7..].Trim()
            : null;
    }
}

internal static class WorkspaceClaims
{
    public static Guid WorkspaceId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ApiKeyAuthenticationHandler.WorkspaceClaim)
            ?? throw new InvalidOperationException("The caller was not authenticated with an API key."));
}
