using Opsmeter.Web.Features.Invitations;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.Web.Features.Instance;

/// <summary>
/// An invitation to own a new workspace, for an email that has no account yet (<c>workspace create NAME --owner EMAIL</c>).
/// The token is an <see cref="InvitationTokens"/> one, as the Members page makes; the <c>/invite/{token}</c> page finds
/// the row by its hash. It is valid for <see cref="Lifetime"/>.
/// </summary>
internal static class OwnerInvitation
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);

    /// <summary>The row to store and the token to hand out (once: it cannot be recovered from the row).</summary>
    public static (Invitation Invitation, string Token) Create(Guid workspaceId, string email, Guid invitedBy, DateTimeOffset now)
    {
        var token = InvitationTokens.Generate();
        var invitation = new Invitation
        {
            Id = Guid.CreateVersion7(now),
            WorkspaceId = workspaceId,
            Email = email,
            Role = WorkspaceRoles.Owner,
            TokenHash = InvitationTokens.Hash(token),
            InvitedBy = invitedBy,
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
        };
        return (invitation, token);
    }

    public static string PathOf(string token) => "/invite/" + token;
}
