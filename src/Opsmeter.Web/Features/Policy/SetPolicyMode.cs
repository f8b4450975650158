using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Policy;

/// <summary>The workspace's kill switch: in observe mode <c>/v1/policy</c> reports what it would do but always answers allow.</summary>
internal static class SetPolicyMode
{
    /// <summary>Sets <paramref name="mode"/> (<see cref="PolicyModes"/>) and reloads the policy; false for an unknown mode.</summary>
    public static async Task<bool> HandleAsync(OpsmeterDbContext db, PolicySnapshot policy, Guid workspaceId, string mode, CancellationToken ct)
    {
        if (mode is not (PolicyModes.Enforce or PolicyModes.Observe))
        {
            return false;
        }

        await db.Workspaces.Where(w => w.Id == workspaceId).ExecuteUpdateAsync(s => s.SetProperty(w => w.PolicyMode, mode), ct);
        await policy.ReloadAsync(ct);
        return true;
    }
}
