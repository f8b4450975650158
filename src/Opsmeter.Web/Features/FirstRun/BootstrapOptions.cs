using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Features.FirstRun;

/// <summary>docs/api.md "First run and automation": what start-up creates, idempotently, if absent.</summary>
internal sealed class BootstrapOptions
{
    public const string Section = "Opsmeter:Bootstrap";

    [Required, MaxLength(128)]
    public string Workspace { get; set; } = "default";

    /// <summary>The owner account of <see cref="Workspace"/>, created if no account has this email.</summary>
    [EmailAddress]
    public string? AdminEmail { get; set; }

    public string? AdminPassword { get; set; }

    /// <summary>A key with all scopes, registered for <see cref="Workspace"/>. Only its hash is stored.</summary>
    [MinLength(16)]
    public string? ApiKey { get; set; }
}
