using System.Reflection;
using Opsmeter.Web.Areas.Dashboard;

namespace Opsmeter.UnitTests.Architecture;

/// <summary>
/// Every change made from the dashboard is for the workspace's owners and admins, except the few that say members may
/// (DashboardPageModel enforces it). This list makes opening another one to members a decision a reviewer sees.
/// </summary>
public sealed class DashboardWritesTests
{
    private static readonly string[] OpenToMembers =
    [
        "Budgets.IndexModel.OnPostEvaluateAsync",
        "Incidents.IndexModel.OnPostAcknowledgeAsync",
        "Incidents.IndexModel.OnPostResolveAsync",
        // Not for members: the handler refuses everyone but instance administrators, whatever their workspace role.
        "Prices.IndexModel.OnPostAddGlobalAsync",
        "Settings.IndexModel.OnPostDemoAsync",
        "WorkspaceModel.OnPost",
        // Not for members either: creating is for instance administrators (or anyone, when the instance allows it), and the
        // role is granted and revoked by instance administrators, whatever their workspace role.
        "Workspaces.IndexModel.OnPostCreateAsync",
        "Workspaces.IndexModel.OnPostGrantAsync",
        // Not for members: only instance administrators set a workspace's quota, whatever their workspace role.
        "Workspaces.IndexModel.OnPostQuotaAsync",
        "Workspaces.IndexModel.OnPostRevokeAsync",
    ];

    [Fact]
    public void Only_the_listed_handlers_let_members_change_anything()
    {
        var pages = typeof(DashboardPageModel).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(DashboardPageModel)));
        var open = pages.SelectMany(page => page.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly)
                .Where(m => m.IsDefined(typeof(AllowMembersAttribute)))
                .Select(m => $"{page.FullName!.Replace("Opsmeter.Web.Areas.Dashboard.Pages.", "", StringComparison.Ordinal)}.{m.Name}"))
            .Order(StringComparer.Ordinal);

        Assert.Equal(OpenToMembers, open);
    }
}
