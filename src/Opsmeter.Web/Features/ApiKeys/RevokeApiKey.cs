using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>Revokes a key of a workspace; on this node it is refused from the next request on (the cache entry is dropped).</summary>
internal static class RevokeApiKey
{
    internal enum Outcome { Revoked, AlreadyRevoked, NotFound }

    /// <summary>
    /// Revokes the key with its <see cref="AuditActions.KeyRevoked"/> entry in one SaveChanges (<paramref name="audit"/> writes to
    /// <paramref name="db"/>; <paramref name="actor"/> null means the request's caller). A key already revoked keeps its
    /// revocation time and gets no second entry; another workspace's key is <see cref="Outcome.NotFound"/>.
    /// </summary>
    public static async Task<(Outcome Outcome, ApiKey? Key)> HandleAsync(OpsmeterDbContext db, AuditLog audit, ApiKeyStore keys, TimeProvider clock,
        Guid workspaceId, Guid keyId, string? actor, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.WorkspaceId == workspaceId && k.Id == keyId, ct);
        if (key is null || key.RevokedAt is not null)
        {
            return (key is null ? Outcome.NotFound : Outcome.AlreadyRevoked, key);
        }

        key.RevokedAt = clock.GetUtcNow();
        audit.Add(workspaceId, AuditActions.KeyRevoked, CreateApiKey.Describe(key), before: string.Join(", ", key.Scopes), actor: actor);
        await db.SaveChangesAsync(ct);
        keys.Invalidate(key.KeyHash);
        return (Outcome.Revoked, key);
    }
}
