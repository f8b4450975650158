using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.FirstRun;

/// <summary>
/// Creates a person and makes them owner of a workspace: the first-run page and the bootstrap settings both use it. The
/// instance's first account is also its instance administrator.
/// </summary>
internal static class CreateOwner
{
    public static async Task<IdentityResult> HandleAsync(UserManager<OpsmeterUser> users, OpsmeterDbContext db, TimeProvider clock,
        string email, string password, Guid workspaceId)
    {
        var user = new OpsmeterUser
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()), UserName = email, Email = email, CreatedAt = clock.GetUtcNow(),
            IsInstanceAdmin = !await db.Users.AnyAsync(),
        };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            return created;
        }

        db.WorkspaceMembers.Add(new WorkspaceMember { WorkspaceId = workspaceId, UserId = user.Id, Role = WorkspaceRoles.Owner, CreatedAt = clock.GetUtcNow() });
        await db.SaveChangesAsync();
        return created;
    }

    public static Task<bool> AnyoneAsync(OpsmeterDbContext db, CancellationToken ct) => db.Users.AnyAsync(ct);
}
