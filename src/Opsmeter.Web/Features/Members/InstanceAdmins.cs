using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Members;

internal static class InstanceAdmins
{
    /// <summary>Whether the signed-in person administers the instance (<see cref="OpsmeterUser.IsInstanceAdmin"/>), read from the database at each request.</summary>
    public static async Task<bool> IsAsync(OpsmeterDbContext db, ClaimsPrincipal user, CancellationToken ct) =>
        Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var userId)
        && await db.Users.AnyAsync(u => u.Id == userId && u.IsInstanceAdmin, ct);
}
