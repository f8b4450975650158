using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.RateLimits;

namespace Opsmeter.Web.Features.ApiKeys;

/// <summary>What a valid key grants.</summary>
internal sealed record ApiKeyGrant(Guid WorkspaceId, Guid KeyId, string Prefix, string[] Scopes);

/// <summary>A lookup's answer: the grant (null: no such key), or, with <c>RefusedForSeconds</c> above 0, not looked up at all.</summary>
internal sealed record ApiKeyLookup(ApiKeyGrant? Grant, int RefusedForSeconds);

/// <summary>
/// Resolves a presented key to its grant. Answers (also "no such key") are cached briefly by hash so
/// that checking a key costs microseconds on the ingest path; <see cref="Invalidate"/> drops a key at
/// once when it is revoked on this node, and the short lifetime (<see cref="ApiKeyOptions.CacheSeconds"/>) bounds how
/// long other nodes lag.
/// </summary>
internal sealed class ApiKeyStore(IServiceScopeFactory scopes, IMemoryCache cache, TimeProvider clock, UnknownKeyGuard guard,
    IOptions<ApiKeyOptions> options)
{
    private readonly TimeSpan lifetime = TimeSpan.FromSeconds(options.Value.CacheSeconds);

    public async ValueTask<ApiKeyGrant?> FindAsync(string presentedKey, CancellationToken ct) =>
        (await FindAsync(presentedKey, clientAddress: null, ct)).Grant;

    /// <summary>
    /// The grant of <paramref name="presentedKey"/>; a key not in the cache is looked up only while
    /// <paramref name="clientAddress"/> has unknown keys left in its <see cref="UnknownKeyGuard"/> budget (null: always).
    /// </summary>
    public async ValueTask<ApiKeyLookup> FindAsync(string presentedKey, string? clientAddress, CancellationToken ct)
    {
        var hash = ApiKeySecrets.Hash(presentedKey);
        if (cache.TryGetValue(CacheKey(hash), out ApiKeyGrant? cached))
        {
            return new(cached, RefusedForSeconds: 0);
        }

        if (clientAddress is not null && !guard.MayLookUp(clientAddress, out var retryAfterSeconds))
        {
            return new(null, retryAfterSeconds);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var grant = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == hash && k.RevokedAt == null)
            .Select(k => new ApiKeyGrant(k.WorkspaceId, k.Id, k.Prefix, k.Scopes))
            .FirstOrDefaultAsync(ct);
        cache.Set(CacheKey(hash), grant, new MemoryCacheEntryOptions
        {
            AbsoluteExpiration = clock.GetUtcNow() + lifetime,
            Size = 1,
        });
        if (grant is null && clientAddress is not null)
        {
            guard.Missed(clientAddress);
        }

        return new(grant, RefusedForSeconds: 0);
    }

    public void Invalidate(string keyHash) => cache.Remove(CacheKey(keyHash));

    private static string CacheKey(string hash) => "apikey:" + hash;
}
