using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Invitations;

/// <summary>An invitation whose link still works: not accepted, not revoked, not expired.</summary>
internal sealed record OpenInvitation(Guid Id, Guid WorkspaceId, string WorkspaceName, string Email, string Role, DateTimeOffset ExpiresAt);

internal enum JoinOutcome
{
    Joined,

    /// <summary>The invitation was accepted, revoked or expired meanwhile (or by a request at the same moment).</summary>
    NotOpen,

    /// <summary>The account is in the workspace already; the invitation stays open.</summary>
    AlreadyMember,

    /// <summary>An account with the invited email appeared meanwhile: sign in to it instead. Or the password was refused.</summary>
    AccountRefused,
}

internal sealed record JoinResult(JoinOutcome Outcome, OpsmeterUser? User = null, IEnumerable<IdentityError>? Errors = null);

/// <summary>
/// Accepting an invitation: the holder of the link joins the workspace, as the account of the invited email. Either they
/// have no account yet and create it with a password of their own, or they are signed in to that account. Claiming the
/// invitation (an UPDATE that only an open invitation matches) is in the same transaction as the new membership, so one
/// invitation makes at most one membership however many requests race for it.
/// </summary>
internal static class AcceptInvitation
{
    public static Task<OpenInvitation?> FindOpenAsync(OpsmeterDbContext db, TimeProvider clock, string token, CancellationToken ct)
    {
        var hash = InvitationTokens.Hash(token);
        var now = clock.GetUtcNow();
        return (from i in db.Invitations.AsNoTracking()
                join w in db.Workspaces.AsNoTracking() on i.WorkspaceId equals w.Id
                where i.TokenHash == hash && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now
                select new OpenInvitation(i.Id, i.WorkspaceId, w.Name, i.Email, i.Role, i.ExpiresAt))
            .FirstOrDefaultAsync(ct);
    }

    /// <summary>Whether <paramref name="user"/> is the account the invitation is for (the same email, compared as Identity does).</summary>
    public static bool IsFor(OpenInvitation invitation, OpsmeterUser user, ILookupNormalizer normalizer) =>
        user.NormalizedEmail is { } email && email == normalizer.NormalizeEmail(invitation.Email);

    /// <summary>The invited person, signed in to the account of the invited email (the caller checked <see cref="IsFor"/>), joins.</summary>
    public static async Task<JoinResult> JoinAsync(OpsmeterDbContext db, AuditLog audit, TimeProvider clock, OpenInvitation invitation,
        OpsmeterUser user, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Claimed first, so that of racing requests all but one find it used, whatever else they would have found.
        if (!await ClaimAsync(db, invitation, user.Id, now, ct))
        {
            return new(JoinOutcome.NotOpen);
        }

        // Already in the workspace: the claim is rolled back, the invitation stays as it was.
        if (await db.WorkspaceMembers.AnyAsync(m => m.WorkspaceId == invitation.WorkspaceId && m.UserId == user.Id, ct))
        {
            return new(JoinOutcome.AlreadyMember);
        }

        AddMembership(db, audit, now, invitation, user);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new(JoinOutcome.Joined, user);
    }

    /// <summary>
    /// No account has the invited email: the holder of the link creates it, with their own password, and joins. The caller
    /// checked that no account has it; if one appears meanwhile, creating this one fails and nothing is changed.
    /// </summary>
    public static async Task<JoinResult> JoinAsNewAccountAsync(OpsmeterDbContext db, UserManager<OpsmeterUser> users, AuditLog audit,
        TimeProvider clock, OpenInvitation invitation, string password, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var user = new OpsmeterUser { Id = Guid.CreateVersion7(now), UserName = invitation.Email, Email = invitation.Email, CreatedAt = now };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Claimed before the account is made: a second request for the same link waits here and then finds it used.
        if (!await ClaimAsync(db, invitation, user.Id, now, ct))
        {
            return new(JoinOutcome.NotOpen);
        }

        IdentityResult created;
        try
        {
            created = await users.CreateAsync(user, password);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // The same email created at this moment through another workspace's invitation.
            return new(JoinOutcome.AccountRefused);
        }

        if (!created.Succeeded)
        {
            return new(JoinOutcome.AccountRefused, Errors: created.Errors);
        }

        AddMembership(db, audit, now, invitation, user);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new(JoinOutcome.Joined, user);
    }

    /// <summary>Marks the invitation accepted if it is still open: true for exactly one of any number of requests racing for it.</summary>
    private static async Task<bool> ClaimAsync(OpsmeterDbContext db, OpenInvitation invitation, Guid userId, DateTimeOffset now, CancellationToken ct) =>
        await db.Invitations
            .Where(i => i.Id == invitation.Id && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, now).SetProperty(i => i.AcceptedBy, userId), ct) == 1;

    private static void AddMembership(OpsmeterDbContext db, AuditLog audit, DateTimeOffset now, OpenInvitation invitation, OpsmeterUser user)
    {
        db.WorkspaceMembers.Add(new WorkspaceMember { WorkspaceId = invitation.WorkspaceId, UserId = user.Id, Role = invitation.Role, CreatedAt = now });
        // The actor is the person joining, whoever (if anyone) the request was signed in as before.
        audit.Add(invitation.WorkspaceId, AuditActions.MemberJoined, user.Email, after: invitation.Role, actor: user.Email);
    }
}
