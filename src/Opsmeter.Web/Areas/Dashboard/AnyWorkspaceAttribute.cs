namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>A handler that may be posted from a page of any workspace: switching workspace is the one.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class AnyWorkspaceAttribute : Attribute;
