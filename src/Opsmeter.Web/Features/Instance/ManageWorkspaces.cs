using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Invitations;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Instance;

/// <summary>A new workspace, and its owner's invitation with the token to hand out when the owner has no account yet.</summary>
internal sealed record CreatedWorkspace(Workspace Workspace, Invitation? Invitation = null, string? InvitationToken = null);

/// <summary>
/// Creating workspaces on the dashboard and the CLI, and renaming them. A new workspace, its owner (a membership, or an
/// invitation to own it) and the instance-level audit entry are one save; a rename and its entry in the workspace's log too.
/// </summary>
internal static class ManageWorkspaces
{
    /// <summary>Whether this person may create workspaces: an instance administrator, or anyone when the instance allows it.</summary>
    public static async Task<bool> MayCreateAsync(OpsmeterDbContext db, WorkspaceOptions options, ClaimsPrincipal user, CancellationToken ct) =>
        options.AnyoneCanCreate ? user.Identity?.IsAuthenticated == true : await InstanceAdmins.IsAsync(db, user, ct);

    /// <summary>Creates the workspace with <paramref name="ownerId"/> as its owner, or says why the name cannot be.</summary>
    public static Task<(CreatedWorkspace? Created, NameProblem? Problem)> CreateAsync(OpsmeterDbContext db, AuditLog audit, TimeProvider clock,
        string? name, Guid ownerId, string? actor, CancellationToken ct) =>
        CreateAsync(db, audit, clock, name, actor, workspace =>
        {
            db.WorkspaceMembers.Add(new WorkspaceMember { WorkspaceId = workspace.Id, UserId = ownerId, Role = WorkspaceRoles.Owner, CreatedAt = workspace.CreatedAt });
            return new CreatedWorkspace(workspace);
        }, ct);

    /// <summary>Creates the workspace and an invitation for <paramref name="email"/> (no account has it yet) to own it.</summary>
    public static Task<(CreatedWorkspace? Created, NameProblem? Problem)> CreateWithInvitedOwnerAsync(OpsmeterDbContext db, AuditLog audit,
        TimeProvider clock, string? name, string email, Guid invitedBy, string? actor, CancellationToken ct) =>
        CreateAsync(db, audit, clock, name, actor, workspace =>
        {
            var (invitation, token) = OwnerInvitation.Create(workspace.Id, email, invitedBy, workspace.CreatedAt);
            db.Invitations.Add(invitation);
            audit.Add(workspace.Id, AuditActions.InvitationCreated, email, after: WorkspaceRoles.Owner, actor: actor);
            return new CreatedWorkspace(workspace, invitation, token);
        }, ct);

    /// <summary>Renames a workspace; returns why not, or null when done (or when it already has that name).</summary>
    public static async Task<string?> RenameAsync(OpsmeterDbContext db, AuditLog audit, Guid workspaceId, string? name, CancellationToken ct)
    {
        var (trimmed, problem) = await WorkspaceNames.CheckAsync(db, name, workspaceId, ct);
        if (problem is not null)
        {
            return problem.Message;
        }

        var workspace = await db.Workspaces.SingleOrDefaultAsync(w => w.Id == workspaceId, ct);
        if (workspace is null)
        {
            return "This workspace no longer exists.";
        }

        if (workspace.Name == trimmed)
        {
            return null;
        }

        audit.Add(workspaceId, AuditActions.WorkspaceRenamed, $"{workspace.Name} ({workspace.Id})", before: workspace.Name, after: trimmed);
        workspace.Name = trimmed;
        try
        {
            return (await SaveAsync(db, trimmed, ct))?.Message;
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear(); // deleted by an owner while this was being renamed
            return "This workspace no longer exists.";
        }
    }

    private static async Task<(CreatedWorkspace? Created, NameProblem? Problem)> CreateAsync(OpsmeterDbContext db, AuditLog audit, TimeProvider clock,
        string? name, string? actor, Func<Workspace, CreatedWorkspace> addOwner, CancellationToken ct)
    {
        var (trimmed, problem) = await WorkspaceNames.CheckAsync(db, name, null, ct);
        if (problem is not null)
        {
            return (null, problem);
        }

        var now = clock.GetUtcNow();
        var workspace = new Workspace { Id = Guid.CreateVersion7(now), Name = trimmed, CreatedAt = now };
        db.Workspaces.Add(workspace);
        var created = addOwner(workspace);
        audit.Add(null, AuditActions.WorkspaceCreated, $"{workspace.Name} ({workspace.Id})", actor: actor);
        return await SaveAsync(db, trimmed, ct) is { } taken ? (null, taken) : (created, null);
    }

    /// <summary>Saves, or answers that the name is taken when the unique index refused it (another save took it since the check).</summary>
    private static async Task<NameProblem?> SaveAsync(OpsmeterDbContext db, string name, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateException e) when (WorkspaceNames.IsTaken(e))
        {
            db.ChangeTracker.Clear();
            return WorkspaceNames.Taken(name);
        }
    }
}
