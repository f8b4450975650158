using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Retention;

/// <summary>
/// Each workspace's raw retention, for the ingest path: an event older than it is refused (api.md "Ingest one
/// call"). Remembered per workspace for <see cref="Lifetime"/>, so ingest asks the database once per workspace
/// in that time; <see cref="Invalidate"/> applies a change at once on the node that made it, and other nodes
/// follow within the lifetime. One entry per workspace that sends events: no eviction is needed.
/// </summary>
internal sealed class RawRetention(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<Guid, (int Days, DateTimeOffset Until)> known = new();

    /// <summary>The oldest <c>occurredAt</c> the workspace accepts now, and the retention in days that sets it.</summary>
    public async ValueTask<(DateTimeOffset Oldest, int Days)> OldestAcceptedAsync(Guid workspaceId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var days = known.TryGetValue(workspaceId, out var entry) && entry.Until > now ? entry.Days : await LoadAsync(workspaceId, now, ct);
        return (RetentionRules.RawCutoff(now, days), days);
    }

    public void Invalidate(Guid workspaceId) => known.TryRemove(workspaceId, out _);

    private async Task<int> LoadAsync(Guid workspaceId, DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var days = await db.Workspaces.AsNoTracking().Where(w => w.Id == workspaceId).Select(w => (int?)w.RawRetentionDays)
            .SingleOrDefaultAsync(ct) ?? RetentionRules.DefaultRawDays;
        known[workspaceId] = (days, now + Lifetime);
        return days;
    }
}
