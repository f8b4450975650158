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
