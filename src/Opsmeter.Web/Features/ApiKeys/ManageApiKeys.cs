using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>The body of <c>POST /v1/keys</c> (docs/api.md "Keys"): a label and the scopes the new key gets.</summary>
public sealed record ApiKeyRequest(string? Name, string?[]? Scopes);

/// <summary>A key as <c>GET /v1/keys</c> lists it: never its secret or hash.</summary>
public sealed record ApiKeyResponse(
    Guid Id, string Name, string Prefix, string[] Scopes, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>The answer to <c>POST /v1/keys</c>: the only time the secret <see cref="Key"/> is shown.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Prefix, string[] Scopes, string Key);

internal sealed class ApiKeyRequestValidator : AbstractValidator<ApiKeyRequest>
{
    public const int MaxNameLength = 128;

    public ApiKeyRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().WithMessage("name is required: a label that says what uses the key.")
            .MaximumLength(MaxNameLength);
        RuleFor(x => x.Scopes).NotEmpty().WithMessage($"scopes takes one or more of: {string.Join(", ", ApiKeyScopes.All)}.");
        RuleFor(x => x.Scopes).Must(s => s!.All(ApiKeyScopes.All.Contains))
            .WithMessage(x => $"scopes takes one or more of: {string.Join(", ", ApiKeyScopes.All)}; " +
                $"not {string.Join(", ", x.Scopes!.Where(s => !ApiKeyScopes.All.Contains(s)).Select(s => s is null ? "null" : $"'{s}'"))}.")
            .When(x => x.Scopes is { Length: > 0 });
    }
}

/// <summary>
/// Key management over <c>/v1/keys</c> (scope <c>admin</c>), for the calling key's workspace only: list, create (a key never
/// grants a scope it does not hold itself), revoke. Creations and revocations are audited under the calling key's prefix.
/// </summary>
internal static class ManageApiKeys
{
    public static async Task<Ok<List<ApiKeyResponse>>> ListAsync(ClaimsPrincipal user, OpsmeterDbContext db, CancellationToken ct)
    {
        var workspaceId = user.WorkspaceId();
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.WorkspaceId == workspaceId)
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id)
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.Scopes, k.CreatedAt, k.LastUsedAt, k.RevokedAt))
            .ToListAsync(ct);
        return TypedResults.Ok(keys);
    }

    public static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateAsync(ApiKeyRequest request, ClaimsPrincipal user,
        OpsmeterDbContext db, AuditLog audit, TimeProvider clock, CancellationToken ct)
    {
        var requested = request.Scopes!.Select(s => s!).Distinct().ToList();
        var held = user.FindAll(ApiKeyAuthenticationHandler.ScopeClaim).Select(c => c.Value).ToHashSet();
        var missing = requested.Where(s => !held.Contains(s)).ToList();
        if (missing.Count > 0)
        {
            return TypedResults.Problem(
                title: "A key cannot grant scopes it does not hold",
                detail: $"The calling key lacks the scope{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing)}: " +
                    "use a key that holds every scope the new key should have.",
                statusCode: StatusCodes.Status403Forbidden,
                extensions: new Dictionary<string, object?> { ["missingScopes"] = missing });
        }

        var created = await CreateApiKey.HandleAsync(db, audit, clock, user.WorkspaceId(), request.Name!.Trim(), requested, actor: null, ct);
        return TypedResults.Created($"/v1/keys/{created.Id}",
            new CreatedApiKeyResponse(created.Id, created.Name, created.Prefix, created.Scopes, created.Key));
    }

    /// <summary>Revokes at once (on this node; within the key cache's 30 s elsewhere). The calling key may revoke itself.</summary>
    public static async Task<Results<NoContent, NotFound>> RevokeAsync(Guid id, ClaimsPrincipal user, OpsmeterDbContext db, AuditLog audit,
        ApiKeyStore keys, TimeProvider clock, CancellationToken ct)
    {
        var (outcome, _) = await RevokeApiKey.HandleAsync(db, audit, keys, clock, user.WorkspaceId(), id, actor: null, ct);
        return outcome == RevokeApiKey.Outcome.NotFound ? TypedResults.NotFound() : TypedResults.NoContent();
    }
}
