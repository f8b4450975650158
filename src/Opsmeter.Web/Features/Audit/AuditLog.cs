using System.Security.Claims;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Audit;

/// <summary>
/// Adds audit entries to the request's <see cref="OpsmeterDbContext"/>: they are written by the same SaveChanges as the
/// change they describe, so there is never a change without its entry or an entry without its change. The actor is the
/// signed-in person's email or the API key's prefix, unless the caller names one (the CLI, start-up).
/// </summary>
internal sealed class AuditLog(OpsmeterDbContext db, TimeProvider clock, IHttpContextAccessor http)
{
    public void Add(Guid? workspaceId, string action, string? target, string? before = null, string? after = null, string? actor = null) =>
        db.AuditLog.Add(new AuditEntry
        {
            WorkspaceId = workspaceId,
            At = clock.GetUtcNow(),
            Actor = Clip(actor ?? ActorOf(http.HttpContext?.User), 320),
            Action = action,
            Target = target is null ? null : Clip(target, 512),
            Before = before is null ? null : Clip(before, 2048),
            After = after is null ? null : Clip(after, 2048),
        });

    /// <summary>"key om_ab12cd34" for an API key, the email for a person, "system" for anything else.</summary>
    public static string ActorOf(ClaimsPrincipal? user) =>
        user?.FindFirstValue(ApiKeyAuthenticationHandler.KeyPrefixClaim) is { } prefix ? "key " + prefix
        : user?.FindFirstValue(ClaimTypes.Email) ?? user?.FindFirstValue(ClaimTypes.Name) ?? "system";

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
