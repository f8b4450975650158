using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Invitations;

/// <summary>An invitation not yet accepted, revoked or expired, as the Members page lists it.</summary>
internal sealed record PendingInvitation(Guid Id, string Email, string Role, string? InvitedBy, DateTimeOffset ExpiresAt);

/// <summary>An invitation just made: its token (for the link, shown once, never stored) and until when it works; or why none was made.</summary>
internal sealed record InviteResult(string? Token, DateTimeOffset ExpiresAt, string? Problem);

/// <summary>
/// Inviting people to a workspace and taking an invitation back. Nobody chooses a password for anyone: the invited person
/// sets their own when they open the link (<see cref="AcceptInvitation"/>), or signs in to the account they already have.
/// </summary>
internal static class ManageInvitations
{
    /// <summary>
    /// Invites <paramref name="email"/> as <paramref name="role"/>. Only owners invite owners; a member is not invited again;
    /// an open invitation for the same email and workspace is revoked by the new one, in the same transaction.
    /// </summary>
    public static async Task<InviteResult> CreateAsync(OpsmeterDbContext db, AuditLog audit, ILookupNormalizer normalizer, TimeProvider clock,
        TimeSpan lifetime, Membership actor, string email, string role, CancellationToken ct)
    {
        email = email.Trim();
        if (role == WorkspaceRoles.Owner && actor.Role != WorkspaceRoles.Owner)
        {
            return Refused("Only an owner can invite an owner.");
        }

        var normalized = normalizer.NormalizeEmail(email);
        var isMember = await (from m in db.WorkspaceMembers
                              join u in db.Users on m.UserId equals u.Id
                              where m.WorkspaceId == actor.WorkspaceId && u.NormalizedEmail == normalized
                              select m).AnyAsync(ct);
        if (isMember)
        {
            return Refused($"{email} is already a member of this workspace: change their role in the list instead.");
        }

        var now = clock.GetUtcNow();
        var token = InvitationTokens.Generate();
        var expiresAt = now + lifetime;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // The open invitation this one replaces, locked: its link stops working when this one is made.
            var replaced = await db.Invitations.FromSql($"""
                SELECT * FROM invitations
                WHERE workspace_id = {actor.WorkspaceId} AND upper(email) = upper({email}) AND accepted_at IS NULL AND revoked_at IS NULL
                FOR UPDATE
                """).ToListAsync(ct);
            foreach (var old in replaced)
            {
                old.RevokedAt = now;
                audit.Add(actor.WorkspaceId, AuditActions.InvitationRevoked, old.Email, before: old.Role, after: "replaced by a new invitation");
            }

            // Saved first: the unique index of open invitations (one per email and workspace) must see the old one closed.
            await db.SaveChangesAsync(ct);
            db.Invitations.Add(new Invitation
            {
                Id = Guid.CreateVersion7(now), WorkspaceId = actor.WorkspaceId, Email = email, Role = role,
                TokenHash = InvitationTokens.Hash(token), InvitedBy = actor.UserId, CreatedAt = now, ExpiresAt = expiresAt,
            });
            audit.Add(actor.WorkspaceId, AuditActions.InvitationCreated, email, after: role);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return Refused($"Another invitation for {email} was made at the same moment: reload the page to see it.");
        }

        return new InviteResult(token, expiresAt, null);
    }

    public static Task<List<PendingInvitation>> ListPendingAsync(OpsmeterDbContext db, TimeProvider clock, Guid workspaceId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return (from i in db.Invitations.AsNoTracking()
                join u in db.Users.AsNoTracking() on i.InvitedBy equals u.Id into inviters
                from u in inviters.DefaultIfEmpty()
                where i.WorkspaceId == workspaceId && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now
                orderby i.CreatedAt descending
                select new PendingInvitation(i.Id, i.Email, i.Role, u == null ? null : u.Email, i.ExpiresAt))
            .ToListAsync(ct);
    }

    /// <summary>Revokes an open invitation of the actor's workspace: its link stops working. Returns why not, or null when done.</summary>
    public static async Task<string?> RevokeAsync(OpsmeterDbContext db, AuditLog audit, TimeProvider clock, Membership actor, Guid id, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Locked, so that an acceptance at the same moment either wins (and this finds nothing open) or waits and fails.
        var invitation = (await db.Invitations.FromSql($"""
            SELECT * FROM invitations
            WHERE id = {id} AND workspace_id = {actor.WorkspaceId} AND accepted_at IS NULL AND revoked_at IS NULL
            FOR UPDATE
            """).ToListAsync(ct)).SingleOrDefault();
        if (invitation is null)
        {
            return "That invitation is no longer open: it was accepted or revoked.";
        }

        invitation.RevokedAt = clock.GetUtcNow();
        audit.Add(actor.WorkspaceId, AuditActions.InvitationRevoked, invitation.Email, before: invitation.Role);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return null;
    }

    private static InviteResult Refused(string problem) => new(null, default, problem);
}
