namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>
/// The whole page is for the workspace's owners and admins (reading it too). Without it, reading a page is for every
/// member and changing anything (any handler but GET or HEAD) is for owners and admins: <see cref="DashboardPageModel"/>
/// enforces both, so a new form is closed to members unless its handler says <see cref="AllowMembersAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class ManagersOnlyAttribute : Attribute;

/// <summary>A handler that changes something every member of the workspace may do (acknowledge an incident, switch workspace).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class AllowMembersAttribute : Attribute;

/// <summary>
/// The page opens for a signed-in person who belongs to no workspace yet (the Workspaces page, where they may create their
/// first): <see cref="DashboardPageModel.HasWorkspace"/> is then false, and its handlers check their own permissions.
/// Every other dashboard page sends such a person there.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class WorkspaceOptionalAttribute : Attribute;
