using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.Invitations;

/// <summary>README "People": how long an invitation link stays valid.</summary>
internal sealed class InvitationOptions
{
    public const string Section = "Opsmeter:Invitations";

    /// <summary>From creation until the link stops working ("7.00:00:00" is seven days; at least a minute, at most 90 days).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromDays(7);
}
