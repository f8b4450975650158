using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Infrastructure.RateLimits;

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
    public const string KeyIdClaim = "key_id";
    private const string RefusedItem = "opsmeter:unknown-keys-refused";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request);
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        var (grant, refusedForSeconds) = await keys.FindAsync(presented, ClientAddress.Of(Context), Context.RequestAborted);
        if (refusedForSeconds > 0)
        {
            Context.Items[RefusedItem] = refusedForSeconds;
            return AuthenticateResult.Fail("Too many unknown API keys from this address.");
        }

        if (grant is null)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        usage.Record(grant.WorkspaceId, grant.KeyId);
        Claim[] claims =
        [
            new(WorkspaceClaim, grant.WorkspaceId.ToString()),
            new(KeyPrefixClaim, grant.Prefix),
            new(KeyIdClaim, grant.KeyId.ToString()),
            .. grant.Scopes.Select(scope => new Claim(ScopeClaim, scope)),
        ];
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    /// <summary>401, or 429 with Retry-After when the address's unknown keys were refused without a lookup.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.TryGetValue(RefusedItem, out var seconds) && seconds is int retryAfterSeconds)
        {
            await TooManyRequests.WriteProblemAsync(Context, retryAfterSeconds,
                "Too many unknown API keys came from this address; keys it has not used recently are not checked for now.");
            return;
        }

        await base.HandleChallengeAsync(properties);
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
