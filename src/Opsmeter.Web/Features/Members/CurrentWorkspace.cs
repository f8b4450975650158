using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Members;

/// <summary>The workspace a signed-in person is looking at, and their role in it.</summary>
internal sealed record Membership(Guid WorkspaceId, string WorkspaceName, string Role, IReadOnlyList<WorkspaceChoice> All, int RawRetentionDays = 30)
{
    /// <summary>The signed-in person.</summary>
    public Guid UserId { get; init; }

    public bool CanManage => WorkspaceRoles.CanManage(Role);
}

internal sealed record WorkspaceChoice(Guid Id, string Name);

/// <summary>
/// Resolves the current workspace from the person's memberships: the one chosen in the workspace cookie
/// if they belong to it, else the first by name. Every dashboard query is scoped by its id.
/// </summary>
internal sealed class CurrentWorkspace(OpsmeterDbContext db)
{
    public const string CookieName = "opsmeter-workspace";

    /// <summary>Makes <paramref name="workspaceId"/> the one this browser works in from the next request on (if the person belongs to it).</summary>
    public static void Choose(HttpContext http, Guid workspaceId) =>
        http.Response.Cookies.Append(CookieName, workspaceId.ToString(),
            new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true, Secure = http.Request.IsHttps });

    public async Task<Membership?> GetAsync(HttpContext http, CancellationToken ct)
    {
        if (!Guid.TryParse(http.User.FindFirstValue(ClaimTypes.NameIdentifier), out var userId))
        {
            return null;
        }

        var memberships = await db.WorkspaceMembers.AsNoTracking()
            .Where(m => m.UserId == userId)
            .Join(db.Workspaces, m => m.WorkspaceId, w => w.Id, (m, w) => new { w.Id, w.Name, m.Role, w.RawRetentionDays })
            .OrderBy(x => x.Name)
            .ToListAsync(ct);
        if (memberships.Count == 0)
        {
            return null;
        }

        var chosen = Guid.TryParse(http.Request.Cookies[CookieName], out var id) ? memberships.FirstOrDefault(m => m.Id == id) : null;
        var current = chosen ?? memberships[0];
        return new Membership(current.Id, current.Name, current.Role, [.. memberships.Select(m => new WorkspaceChoice(m.Id, m.Name))],
            current.RawRetentionDays) { UserId = userId };
    }
}
