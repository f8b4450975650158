using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Members;

internal sealed record MemberRow(Guid UserId, string Email, string Role, DateTimeOffset Since);

/// <summary>
/// Re-roling and removing the people of a workspace (people join only by accepting an invitation, Features/Invitations). A
/// workspace always keeps an owner; only owners make owners. Each change is audited by the SaveChanges that makes it.
/// </summary>
internal static class ManageMembers
{
    public static Task<List<MemberRow>> ListAsync(OpsmeterDbContext db, Guid workspaceId, CancellationToken ct) =>
        (from m in db.WorkspaceMembers.AsNoTracking()
         join u in db.Users.AsNoTracking() on m.UserId equals u.Id
         where m.WorkspaceId == workspaceId
         orderby u.Email
         select new MemberRow(u.Id, u.Email!, m.Role, m.CreatedAt))
        .ToListAsync(ct);

    /// <summary>Sets a role, or removes the member when <paramref name="role"/> is null. Returns why not, or null when done.</summary>
    public static async Task<string?> ChangeAsync(OpsmeterDbContext db, AuditLog audit, Membership actor, Guid userId, string? role, CancellationToken ct)
    {
        var member = await db.WorkspaceMembers.FirstOrDefaultAsync(m => m.WorkspaceId == actor.WorkspaceId && m.UserId == userId, ct);
        if (member is null)
        {
            return "No such member.";
        }

        if ((member.Role == WorkspaceRoles.Owner || role == WorkspaceRoles.Owner) && actor.Role != WorkspaceRoles.Owner)
        {
            return "Only an owner can change an owner or make one.";
        }

        if (member.Role == WorkspaceRoles.Owner && role != WorkspaceRoles.Owner &&
            await db.WorkspaceMembers.CountAsync(m => m.WorkspaceId == actor.WorkspaceId && m.Role == WorkspaceRoles.Owner, ct) == 1)
        {
            return "A workspace keeps at least one owner.";
        }

        if (role == member.Role)
        {
            return null;
        }

        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).SingleAsync(ct);
        if (role is null)
        {
            db.WorkspaceMembers.Remove(member);
            audit.Add(actor.WorkspaceId, AuditActions.MemberRemoved, email, before: member.Role);
        }
        else
        {
            audit.Add(actor.WorkspaceId, AuditActions.MemberRoleChanged, email, before: member.Role, after: role);
            member.Role = role;
        }

        await db.SaveChangesAsync(ct);
        return null;
    }
}
