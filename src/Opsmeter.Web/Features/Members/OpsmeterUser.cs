using Microsoft.AspNetCore.Identity;

namespace Opsmeter.Web.Features.Members;

/// <summary>A person who signs in to the dashboard (ASP.NET Core Identity, stored in PostgreSQL).</summary>
internal sealed class OpsmeterUser : IdentityUser<Guid>
{
    public DateTimeOffset CreatedAt { get; init; }
}
