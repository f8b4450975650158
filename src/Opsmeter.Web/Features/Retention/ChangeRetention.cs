using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Retention;

/// <summary>Sets how long a workspace keeps raw events and daily rollups (validated by <see cref="RetentionFormValidator"/>).</summary>
internal static class ChangeRetention
{
    /// <summary>Saves the form and, when it changes anything, its audit entry in the same transaction.</summary>
    public static async Task SaveAsync(OpsmeterDbContext db, AuditLog audit, RawRetention rawRetention, Guid workspaceId, RetentionForm form,
        CancellationToken ct)
    {
        var workspace = await db.Workspaces.SingleAsync(w => w.Id == workspaceId, ct);
        var before = Describe(workspace.RawRetentionDays, workspace.RollupRetentionDays);
        var after = Describe(form.RawRetentionDays, form.RollupRetentionDays);
        if (before == after)
        {
            return;
        }

        (workspace.RawRetentionDays, workspace.RollupRetentionDays) = (form.RawRetentionDays, form.RollupRetentionDays);
        audit.Add(workspaceId, AuditActions.RetentionChanged, "retention", before, after);
        await db.SaveChangesAsync(ct);
        rawRetention.Invalidate(); // ingest refuses events older than the new retention at once (other nodes within 30 s)
    }

    /// <summary>"raw 30 d, rollups 400 d".</summary>
    private static string Describe(int rawDays, int rollupDays) => $"raw {rawDays} d, rollups {rollupDays} d";
}
