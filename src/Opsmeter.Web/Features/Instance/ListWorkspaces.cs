using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Instance;

/// <summary>A workspace a person belongs to, with their role in it.</summary>
internal sealed record OwnWorkspaceRow(Guid Id, string Name, string Role, DateTimeOffset CreatedAt);

/// <summary>A workspace of the instance as its administrators see it, with its own monthly request quota (null: the default).</summary>
internal sealed record InstanceWorkspaceRow(Guid Id, string Name, DateTimeOffset CreatedAt, int Members, IReadOnlyList<string> Owners,
    long? MonthlyRequestQuota = null);

internal static class ListWorkspaces
{
    public static Task<List<OwnWorkspaceRow>> OfPersonAsync(OpsmeterDbContext db, Guid userId, CancellationToken ct) =>
        (from m in db.WorkspaceMembers.AsNoTracking()
         join w in db.Workspaces.AsNoTracking() on m.WorkspaceId equals w.Id
         where m.UserId == userId
         orderby w.Name
         select new OwnWorkspaceRow(w.Id, w.Name, m.Role, w.CreatedAt))
        .ToListAsync(ct);

    /// <summary>Every workspace of the instance, by name, with its member count and its owners' emails.</summary>
    public static async Task<List<InstanceWorkspaceRow>> AllAsync(OpsmeterDbContext db, CancellationToken ct)
    {
        var workspaces = await db.Workspaces.AsNoTracking().OrderBy(w => w.Name)
            .Select(w => new { w.Id, w.Name, w.CreatedAt, Members = db.WorkspaceMembers.Count(m => m.WorkspaceId == w.Id), w.MonthlyRequestQuota })
            .ToListAsync(ct);
        var owners = (await (from m in db.WorkspaceMembers.AsNoTracking()
                             join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                             where m.Role == WorkspaceRoles.Owner
                             orderby u.Email
                             select new { m.WorkspaceId, u.Email })
                .ToListAsync(ct))
            .ToLookup(o => o.WorkspaceId, o => o.Email!);
        return [.. workspaces.Select(w => new InstanceWorkspaceRow(w.Id, w.Name, w.CreatedAt, w.Members, [.. owners[w.Id]], w.MonthlyRequestQuota))];
    }
}
