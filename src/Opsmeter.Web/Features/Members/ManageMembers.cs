using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Members;

internal sealed record MemberRow(Guid UserId, string Email, string Role, DateTimeOffset Since);

/// <summary>Adding, re-roling and removing the people of a workspace. A workspace always keeps an owner; only owners make owners.</summary>
internal static class ManageMembers
{
    public static Task<List<MemberRow>> ListAsync(OpsmeterDbContext db, Guid workspaceId, CancellationToken ct) =>
        (from m in db.WorkspaceMembers.AsNoTracking()
         join u in db.Users.AsNoTracking() on m.UserId equals u.Id
         where m.WorkspaceId == workspaceId
         orderby u.Email
         select new MemberRow(u.Id, u.Email!, m.Role, m.CreatedAt))
        .ToListAsync(ct);

    /// <summary>Adds a person by email; a new account gets <paramref name="initialPassword"/>, an existing one keeps its own.</summary>
    public static async Task<string?> AddAsync(OpsmeterDbContext db, UserManager<OpsmeterUser> users, TimeProvider clock, Membership actor,
        string email, string role, string? initialPassword)
    {
        if (role == WorkspaceRoles.Owner && actor.Role != WorkspaceRoles.Owner)
        {
            return "Only an owner can add an owner.";
        }

        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            if (string.IsNullOrEmpty(initialPassword))
            {
                return "There is no account with that email yet: give an initial password for it.";
            }

            user = new OpsmeterUser { Id = Guid.CreateVersion7(clock.GetUtcNow()), UserName = email, Email = email, CreatedAt = clock.GetUtcNow() };
            var created = await users.CreateAsync(user, initialPassword);
            if (!created.Succeeded)
            {
                return string.Join(" ", created.Errors.Select(e => e.Description));
            }
        }

        if (await db.WorkspaceMembers.AnyAsync(m => m.WorkspaceId == actor.WorkspaceId && m.UserId == user.Id))
        {
            return $"{email} is already a member.";
        }

        db.WorkspaceMembers.Add(new WorkspaceMember { WorkspaceId = actor.WorkspaceId, UserId = user.Id, Role = role, CreatedAt = clock.GetUtcNow() });
        await db.SaveChangesAsync();
        return null;
    }

    /// <summary>Sets a role, or removes the member when <paramref name="role"/> is null. Returns why not, or null when done.</summary>
    public static async Task<string?> ChangeAsync(OpsmeterDbContext db, Membership actor, Guid userId, string? role, CancellationToken ct)
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

        if (role is null)
        {
            db.WorkspaceMembers.Remove(member);
        }
        else
        {
            member.Role = role;
        }

        await db.SaveChangesAsync(ct);
        return null;
    }
}
