using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>Revokes a key of a workspace; on this node it is refused from the next request on (the cache entry is dropped).</summary>
internal static class RevokeApiKey
{
    public static async Task<bool> HandleAsync(OpsmeterDbContext db, ApiKeyStore keys, TimeProvider clock, Guid workspaceId, Guid keyId, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.WorkspaceId == workspaceId && k.Id == keyId, ct);
        if (key is null || key.RevokedAt is not null)
        {
            return false;
        }

        key.RevokedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        keys.Invalidate(key.KeyHash);
        return true;
    }
}
