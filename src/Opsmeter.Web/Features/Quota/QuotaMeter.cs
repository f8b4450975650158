using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Features.Quota;

/// <summary>A workspace's quota for the UTC month and what of it is used.</summary>
internal sealed record QuotaUsage(long Limit, long Used, BudgetPeriod Month)
{
    public long Remaining => Math.Max(0, Limit - Used);

    public bool IsReached => Used >= Limit;
}

/// <summary>
/// How much of its monthly request quota each workspace has used, in memory, so that ingest never waits for a count.
/// Only a workspace with a quota (its own, else <see cref="QuotaOptions.DefaultMonthlyRequests"/>) is counted at all.
/// Its count is read from the database when first asked, again once it is <see cref="RefreshInterval"/> old (by the
/// request that finds it so; the others meanwhile use the old figure) and when the UTC month turns; in between, what this
/// server stores is added as it is committed. Other servers' events therefore show up within one refresh: with N servers a
/// workspace can overshoot its quota by what the other N-1 store in one interval (README "Limits").
/// </summary>
internal sealed class QuotaMeter(NpgsqlDataSource db, IOptions<QuotaOptions> options, TimeProvider clock) : IDisposable
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<Guid, Counter> counters = new();
    private readonly SemaphoreSlim reloading = new(1, 1);

    /// <summary>The workspaces that have a quota of their own, and when that was read (replaced whole).</summary>
    private volatile OwnQuotas? own;

    /// <summary>
    /// The workspace's own quota, else the default; null when none applies. The workspaces' own quotas are read again
    /// once <see cref="RefreshInterval"/> old, so a change made on another server applies here within that.
    /// </summary>
    public async ValueTask<long?> LimitForAsync(Guid workspaceId)
    {
        if (own is not { } quotas || clock.GetUtcNow() - quotas.ReadAt >= RefreshInterval)
        {
            quotas = await ReloadQuotasAsync(CancellationToken.None, onlyIfStale: true);
        }

        return quotas.ByWorkspace.TryGetValue(workspaceId, out var limit) ? limit : options.Value.DefaultMonthlyRequests;
    }

    /// <summary>Reads every workspace's own quota again: after a change here, and when the last read is stale.</summary>
    public async Task<OwnQuotas> ReloadQuotasAsync(CancellationToken ct, bool onlyIfStale = false)
    {
        await reloading.WaitAsync(ct);
        try
        {
            if (onlyIfStale && own is { } fresh && clock.GetUtcNow() - fresh.ReadAt < RefreshInterval)
            {
                return fresh;
            }

            var readAt = clock.GetUtcNow();
            var byWorkspace = new Dictionary<Guid, long>();
            await using var command = db.CreateCommand("SELECT id, monthly_request_quota FROM workspaces WHERE monthly_request_quota IS NOT NULL");
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    byWorkspace[reader.GetGuid(0)] = reader.GetInt64(1);
                }
            }

            var loaded = new OwnQuotas(byWorkspace.ToFrozenDictionary(), readAt);
            own = loaded;
            return loaded;
        }
        catch (NpgsqlException) when (onlyIfStale && own is { } older)
        {
            return older; // the database is away: keep the quotas last read rather than refuse ingest for them
        }
        finally
        {
            reloading.Release();
        }
    }

    public void Dispose() => reloading.Dispose();

    internal sealed record OwnQuotas(FrozenDictionary<Guid, long> ByWorkspace, DateTimeOffset ReadAt);

    /// <summary>The workspace's usage of its quota this UTC month, or null when it has no quota (nothing is counted then).</summary>
    public async ValueTask<QuotaUsage?> UsageAsync(Guid workspaceId)
    {
        if (await LimitForAsync(workspaceId) is not { } limit)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var counter = counters.GetOrAdd(workspaceId, _ => new Counter());
        var month = BudgetPeriod.Containing(now, BudgetRules.Monthly, TimeZoneInfo.Utc);
        var used = counter.IsFresh(month.Start, now)
            ? Interlocked.Read(ref counter.Used)
            : await counter.RefreshAsync(() => CountAsync(db, workspaceId, month, CancellationToken.None), month.Start, now);
        return new QuotaUsage(limit, used, month);
    }

    /// <summary>Adds events this server has just stored to the workspace's count, if it is counted.</summary>
    public void Add(Guid workspaceId, int stored)
    {
        if (stored > 0 && counters.TryGetValue(workspaceId, out var counter))
        {
            Interlocked.Add(ref counter.Used, stored);
        }
    }

    /// <summary>
    /// The events of the workspace that count against this month's quota: those that occurred in the month (any data mode,
    /// the figure workspace-status reports) plus those received in it but dated earlier, so that backdating an event does
    /// not take it out of the count. Both read the rollups and the few rows a BRIN index on <c>received_at</c> points at.
    /// </summary>
    public static async Task<long> CountAsync(NpgsqlDataSource db, Guid workspaceId, BudgetPeriod month, CancellationToken ct)
    {
        var count = 0L;
        foreach (var mode in DataModes.All)
        {
            count += (await UsageQueries.TotalsAsync(db, workspaceId, new UsageFilter(month.Start, month.End, mode), ct)).Requests;
        }

        return count + await BackdatedAsync(db, workspaceId, month, ct);
    }

    /// <summary>The workspace's events received in <paramref name="month"/> that are dated before it.</summary>
    public static async Task<long> BackdatedAsync(NpgsqlDataSource db, Guid workspaceId, BudgetPeriod month, CancellationToken ct)
    {
        await using var backdated = db.CreateCommand(
            "SELECT count(*) FROM llm_requests WHERE workspace_id = @workspace AND occurred_at < @start AND received_at >= @start");
        backdated.Parameters.AddWithValue("workspace", workspaceId);
        backdated.Parameters.AddWithValue("start", month.Start.ToUniversalTime());
        return (long)(await backdated.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// One workspace's count. One read at a time: while it runs, others use this month's older figure, or, when there is
    /// none (first use, a new month), wait for the same read. A failed read keeps this month's older figure; without one
    /// the request fails as the database does (503).
    /// </summary>
    private sealed class Counter
    {
        public long Used;
        private readonly Lock gate = new();
        private Task<long>? pending;

        /// <summary>Which month <see cref="Used"/> counts and when it was read: replaced whole, so never seen half-written.</summary>
        private volatile Stamp? stamp;

        public bool IsFresh(DateTimeOffset month, DateTimeOffset now) => stamp is { } s && s.Month == month && now - s.ReadAt < RefreshInterval;

        public Task<long> RefreshAsync(Func<Task<long>> count, DateTimeOffset month, DateTimeOffset now)
        {
            lock (gate)
            {
                if (IsFresh(month, now) || (pending is not null && stamp?.Month == month))
                {
                    return Task.FromResult(Interlocked.Read(ref Used));
                }

                return pending ??= ReadAsync(count, month, now);
            }
        }

        private async Task<long> ReadAsync(Func<Task<long>> count, DateTimeOffset month, DateTimeOffset now)
        {
            await Task.Yield(); // so that pending is set before it is cleared below
            try
            {
                var used = await count();
                Interlocked.Exchange(ref Used, used);
                stamp = new Stamp(month, now);
                return used;
            }
            catch (Exception) when (stamp?.Month == month)
            {
                return Interlocked.Read(ref Used);
            }
            finally
            {
                lock (gate)
                {
                    pending = null;
                }
            }
        }

        private sealed record Stamp(DateTimeOffset Month, DateTimeOffset ReadAt);
    }
}
