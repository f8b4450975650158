using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Retention;

/// <summary>
/// Each workspace's raw retention, for the ingest path: an event older than it is refused (docs/api.md "Ingest one
/// call"). Every workspace's value is read in one query and kept for <see cref="Lifetime"/>; requests that find it
/// stale share one read, so a burst after a restart costs one query, not one per request. <see cref="Invalidate"/>
/// applies a change at once on the node that made it; other nodes follow within the lifetime.
/// </summary>
internal sealed class RawRetention(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private readonly Lock gate = new();
    private Snapshot? current;
    private long version;
    private Task<Snapshot>? reading;

    private sealed record Snapshot(FrozenDictionary<Guid, int> Days, DateTimeOffset Until);

    /// <summary>The oldest <c>occurredAt</c> the workspace accepts now, and the retention in days that sets it.</summary>
    public async ValueTask<(DateTimeOffset Oldest, int Days)> OldestAcceptedAsync(Guid workspaceId)
    {
        var now = clock.GetUtcNow();
        var snapshot = current is { } known && known.Until > now && known.Days.ContainsKey(workspaceId) ? known : await ReadAsync();
        var days = snapshot.Days.GetValueOrDefault(workspaceId, RetentionRules.DefaultRawDays);
        return (RetentionRules.RawCutoff(now, days), days);
    }

    /// <summary>Forgets the snapshot after a workspace's retention changed here; the next request reads them all again.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref version);
        current = null;
    }

    private Task<Snapshot> ReadAsync()
    {
        lock (gate)
        {
            // Started on the pool, so that it cannot finish (and clear `reading`) before it is stored here.
            return reading ??= Task.Run(ReadAllAsync);
        }
    }

    private async Task<Snapshot> ReadAllAsync()
    {
        var started = Interlocked.Read(ref version);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
            var days = await db.Workspaces.AsNoTracking().ToDictionaryAsync(w => w.Id, w => w.RawRetentionDays);
            var snapshot = new Snapshot(days.ToFrozenDictionary(), clock.GetUtcNow() + Lifetime);
            // A change saved while this read ran may not be in it: answer with it, but do not keep it.
            if (Interlocked.Read(ref version) == started)
            {
                current = snapshot;
            }

            return snapshot;
        }
        finally
        {
            lock (gate)
            {
                reading = null;
            }
        }
    }
}
