using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Quota;

/// <summary>
/// A workspace's own monthly request quota, set by instance administrators (the Workspaces page, <c>workspace quota</c>):
/// a whole number of requests, or none (the instance default then applies). Audited in the workspace's log.
/// </summary>
internal static class SetWorkspaceQuota
{
    /// <summary>A trillion requests a month: far beyond any one workspace, and well inside a bigint.</summary>
    public const long MaxQuota = 1_000_000_000_000;

    public const string Invalid = "The quota is a whole number of requests from 1 to 1,000,000,000,000, or empty (or \"none\") for the instance default.";

    /// <summary>Reads "none" or empty as no quota of its own (null); false for anything else that is not 1 to <see cref="MaxQuota"/>.</summary>
    public static bool TryParse(string? text, out long? quota)
    {
        quota = null;
        var trimmed = text?.Trim().Replace(",", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        if (string.IsNullOrEmpty(trimmed) || trimmed.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= MaxQuota)
        {
            quota = value;
            return true;
        }

        return false;
    }

    public static string Describe(long? quota) => quota?.ToString("N0", CultureInfo.InvariantCulture) ?? "none";

    /// <summary>Sets the quota with its audit entry in one transaction and reloads the quotas; false when there is no such workspace.</summary>
    public static async Task<bool> HandleAsync(OpsmeterDbContext db, AuditLog audit, QuotaMeter meter, Guid workspaceId, long? quota,
        string? actor, CancellationToken ct)
    {
        var workspace = await db.Workspaces.SingleOrDefaultAsync(w => w.Id == workspaceId, ct);
        if (workspace is null)
        {
            return false;
        }

        if (workspace.MonthlyRequestQuota != quota)
        {
            audit.Add(workspaceId, AuditActions.QuotaChanged, "monthly request quota", Describe(workspace.MonthlyRequestQuota), Describe(quota), actor);
            workspace.MonthlyRequestQuota = quota;
            await db.SaveChangesAsync(ct);
        }

        await meter.ReloadQuotasAsync(ct);
        return true;
    }
}
