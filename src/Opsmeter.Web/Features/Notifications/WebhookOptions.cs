using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>README "Alerts": where webhooks may go. By default only public internet addresses (<see cref="WebhookAddresses"/>).</summary>
internal sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Opsmeter:Webhooks";

    /// <summary>
    /// Host names (as written in a channel's URL, IP literals included) that may reach any address they resolve to, internal
    /// ones included: <c>hooks.corp.internal</c>, <c>127.0.0.1</c>. Only that exact host: another name resolving to the same
    /// address is still refused.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Networks in CIDR notation (<c>10.20.0.0/16</c>, <c>fd00:1::/64</c>) that any channel may reach.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>Seconds a delivery may take, connecting included, before it counts as a timeout.</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 10;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => AllowedNetworks
        .Where(n => !string.IsNullOrWhiteSpace(n) && !IPNetwork.TryParse(n.Trim(), out _))
        .Select(n => new ValidationResult($"{Section}:AllowedNetworks: '{n}' is not a network in CIDR notation (10.20.0.0/16).", [nameof(AllowedNetworks)]));
}
