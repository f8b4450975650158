namespace Opsmeter.Web.Features.Instance;

/// <summary>
/// Who may create workspaces (section <c>Opsmeter:Workspaces</c>): instance administrators always, and every signed-in person
/// when <see cref="AnyoneCanCreate"/> is set (<c>Opsmeter__Workspaces__AnyoneCanCreate=true</c>). Whoever creates one owns it.
/// </summary>
internal sealed class WorkspaceOptions
{
    public const string Section = "Opsmeter:Workspaces";

    public bool AnyoneCanCreate { get; set; }
}
