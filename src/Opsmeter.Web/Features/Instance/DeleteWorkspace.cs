using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Instance;

/// <summary>
/// Deletes a workspace and everything that is its, in one transaction, once the person typed its exact name: events,
/// idempotency keys, rollups, budgets, incidents, webhook channels and deliveries (a delivery still pending is gone, so
/// its queued job finds nothing to send), API keys (refused on this node at once, on others when their 30-second cache
/// entry ends), members, invitations, price overrides with their audit and re-pricing runs. The audit log stays
/// (append-only); the instance's log records the deletion.
/// </summary>
internal static class DeleteWorkspace
{
    /// <summary>
    /// Every table that holds a workspace's rows (by <c>workspace_id</c>), children before parents. A new table with a
    /// <c>workspace_id</c> column belongs here or in <see cref="Kept"/>: a test compares both with the database's columns.
    /// </summary>
    public static readonly IReadOnlyList<string> Tables =
    [
        "webhook_deliveries", "incidents", "webhook_channels", "budgets", "invitations", "workspace_members", "api_keys",
        "reprice_runs", "price_audit", "model_prices", "usage_rollups", "usage_rollup_generations", "ingest_keys", "llm_requests",
    ];

    /// <summary>Tables with a <c>workspace_id</c> that keep the deleted workspace's rows, and why.</summary>
    public static readonly IReadOnlyDictionary<string, string> Kept = new Dictionary<string, string>
    {
        ["audit_log"] = "append-only (a trigger refuses DELETE): the instance keeps the record of what happened in a deleted workspace",
        ["rollup_pending"] = "when its events were written, not what they were (RollupWorker): the rollup worker's next pass, seconds later, deletes the rows",
    };

    /// <summary>Deleting millions of events takes longer than a query's usual 30 seconds.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(30);

    /// <summary>Returns why nothing was deleted, or null when the workspace is gone.</summary>
    public static async Task<string?> HandleAsync(OpsmeterDbContext db, AuditLog audit, ApiKeyStore keys, Guid workspaceId, string? typedName,
        string? actor, CancellationToken ct)
    {
        db.Database.SetCommandTimeout(CommandTimeout);
        var hashes = new List<string>();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // Locked: a second deletion, or a rename, of the same workspace waits for this one.
            var workspace = await db.Workspaces.FromSql($"SELECT * FROM workspaces WHERE id = {workspaceId} FOR UPDATE").SingleOrDefaultAsync(ct);
            if (workspace is null)
            {
                return "This workspace no longer exists.";
            }

            if (typedName?.Trim() != workspace.Name)
            {
                return $"Nothing was deleted: what you typed is not the workspace's name. Type \"{workspace.Name}\" exactly to delete it.";
            }

            // Holding the rollup worker's lock keeps a pass from folding events this transaction deletes back into the rollups.
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM rollup_state WHERE name = 'usage' FOR UPDATE", ct);
            hashes = await db.ApiKeys.Where(k => k.WorkspaceId == workspaceId).Select(k => k.KeyHash).ToListAsync(ct);
            var removed = new List<string>();
            foreach (var table in Tables)
            {
                // The table names are the constants above, never input; the id is a parameter.
#pragma warning disable EF1003
                var rows = await db.Database.ExecuteSqlRawAsync("DELETE FROM " + table + " WHERE workspace_id = {0}", [workspaceId], ct);
#pragma warning restore EF1003
                if (rows > 0)
                {
                    removed.Add(string.Create(CultureInfo.InvariantCulture, $"{table} {rows}"));
                }
            }

            db.Workspaces.Remove(workspace);
            audit.Add(null, AuditActions.WorkspaceDeleted, $"{workspace.Name} ({workspace.Id})",
                before: removed.Count == 0 ? "no rows" : "rows deleted: " + string.Join(", ", removed), actor: actor);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        foreach (var hash in hashes)
        {
            keys.Invalidate(hash);
        }

        return null;
    }
}
