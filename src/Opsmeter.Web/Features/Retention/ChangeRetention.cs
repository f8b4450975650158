using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Retention;

/// <summary>Sets how long a workspace keeps raw events and daily rollups (validated by <see cref="RetentionFormValidator"/>).</summary>
internal static class ChangeRetention
{
    public static async Task SaveAsync(OpsmeterDbContext db, RawRetention rawRetention, Guid workspaceId, RetentionForm form, CancellationToken ct)
    {
        await db.Workspaces.Where(w => w.Id == workspaceId).ExecuteUpdateAsync(s => s
            .SetProperty(w => w.RawRetentionDays, form.RawRetentionDays)
            .SetProperty(w => w.RollupRetentionDays, form.RollupRetentionDays), ct);
        rawRetention.Invalidate(); // ingest refuses events older than the new retention at once (other nodes within 30 s)
    }
}
