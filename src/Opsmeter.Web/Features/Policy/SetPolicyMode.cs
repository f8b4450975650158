using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Policy;

/// <summary>The workspace's kill switch: in observe mode <c>/v1/policy</c> reports what it would do but always answers allow.</summary>
internal static class SetPolicyMode
{
    /// <summary>
    /// Sets <paramref name="mode"/> (<see cref="PolicyModes"/>) with its audit entry in the same transaction, and reloads the
    /// policy; false for an unknown mode.
    /// </summary>
    public static async Task<bool> HandleAsync(OpsmeterDbContext db, AuditLog audit, PolicySnapshot policy, Guid workspaceId, string mode,
        CancellationToken ct)
    {
        if (mode is not (PolicyModes.Enforce or PolicyModes.Observe))
        {
            return false;
        }

        var workspace = await db.Workspaces.SingleAsync(w => w.Id == workspaceId, ct);
        if (workspace.PolicyMode != mode)
        {
            audit.Add(workspaceId, AuditActions.PolicyModeChanged, "policy mode", workspace.PolicyMode, mode);
            workspace.PolicyMode = mode;
            await db.SaveChangesAsync(ct);
        }

        await policy.ReloadAsync(ct);
        return true;
    }
}
