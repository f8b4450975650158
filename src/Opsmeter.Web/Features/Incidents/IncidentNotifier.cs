using Hangfire;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Incidents;

/// <summary>
/// Announces incidents whose level has not been announced yet, at most once per 5 minutes per incident: a
/// warning that escalates two minutes later is announced as exceeded when its cooldown ends. The claim
/// (<c>FOR UPDATE SKIP LOCKED</c>, then notified_level = level) makes one run, on one server, announce each level.
/// </summary>
internal sealed class IncidentNotifier(OpsmeterDbContext db, NpgsqlDataSource dataSource, IBackgroundJobClient jobs, TimeProvider clock,
    ILogger<IncidentNotifier> logger)
{
    public static readonly TimeSpan Cooldown = TimeSpan.FromMinutes(5);

    /// <summary>Announces what is due, in every workspace or in one; returns the deliveries queued.</summary>
    public async Task<IReadOnlyList<Guid>> NotifyDueAsync(Guid? workspaceId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var cooledDown = now - Cooldown;
        var scope = workspaceId ?? Guid.Empty; // a typed value: PostgreSQL cannot type a bare null parameter
        db.ChangeTracker.Clear();
        var deliveries = new List<WebhookDelivery>();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var due = await db.Incidents.FromSql($"""
                SELECT * FROM incidents
                WHERE ({scope} = {Guid.Empty} OR workspace_id = {scope})
                  AND state <> 'resolved' AND notified_level IS DISTINCT FROM level
                  AND (notified_at IS NULL OR notified_at <= {cooledDown})
                ORDER BY opened_at
                FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct);
            foreach (var incident in due)
            {
                var channels = await db.WebhookChannels.AsNoTracking().Where(c => c.WorkspaceId == incident.WorkspaceId).ToListAsync(ct);
                var budget = await db.Budgets.AsNoTracking().SingleAsync(b => b.WorkspaceId == incident.WorkspaceId && b.Id == incident.BudgetId, ct);
                var drivers = channels.Count == 0 ? [] : await BudgetSpend.TopDriversAsync(dataSource, budget, incident.PeriodStart, incident.PeriodEnd, ct);
                foreach (var channel in channels)
                {
                    deliveries.Add(db.WebhookDeliveries.Add(new WebhookDelivery
                    {
                        Id = Guid.CreateVersion7(now), WorkspaceId = incident.WorkspaceId, ChannelId = channel.Id, IncidentId = incident.Id,
                        Kind = "incident", Body = IncidentMessages.Incident(channel.Format, incident, budget, drivers, now),
                        Status = DeliverWebhookJob.Pending, CreatedAt = now,
                    }).Entity);
                }

                incident.NotifiedLevel = incident.Level;
                incident.NotifiedAt = now;
                logger.LogInformation("Incident {IncidentId} ({Level}) announced to {Channels} channel(s)", incident.Id, incident.Level, channels.Count);
            }

            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        foreach (var delivery in deliveries)
        {
            jobs.Enqueue<DeliverWebhookJob>(j => j.RunAsync(delivery.Id, CancellationToken.None));
        }

        await RequeueOrphansAsync(scope, now, ct);
        return [.. deliveries.Select(d => d.Id)];
    }

    /// <summary>
    /// A delivery is committed before its job is queued; if the process died in between, it would wait forever.
    /// Deliveries never attempted two minutes after they were written are queued again (the job locks the row
    /// and skips one already sent, so a second queueing never sends twice).
    /// </summary>
    private async Task RequeueOrphansAsync(Guid scope, DateTimeOffset now, CancellationToken ct)
    {
        var stale = now - TimeSpan.FromMinutes(2);
        var orphans = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => (scope == Guid.Empty || d.WorkspaceId == scope) && d.Status == DeliverWebhookJob.Pending && d.Attempts == 0 && d.CreatedAt < stale)
            .Select(d => d.Id).Take(1000).ToListAsync(ct);
        foreach (var id in orphans)
        {
            jobs.Enqueue<DeliverWebhookJob>(j => j.RunAsync(id, CancellationToken.None));
        }
    }
}
