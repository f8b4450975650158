using Microsoft.AspNetCore.Identity;

namespace Opsmeter.Web.Features.Members;

/// <summary>A person who signs in to the dashboard (ASP.NET Core Identity, stored in PostgreSQL).</summary>
internal sealed class OpsmeterUser : IdentityUser<Guid>
{
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// An instance administrator manages what all workspaces share: the global price catalog and the job dashboard. The
    /// first account of the instance is one; workspace owners and admins manage only their workspace.
    /// </summary>
    public bool IsInstanceAdmin { get; set; }
}
