using System.Net;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

/// <summary>A tab left open on one workspace must not change another after the person switched in a second tab.</summary>
[Collection(SharedApp.Name)]
public sealed class StaleFormTests(OpsmeterApp app)
{
    [Fact]
    public async Task A_form_of_workspace_A_posted_while_acting_on_B_is_refused_and_changes_nothing()
    {
        var a = await app.CreateWorkspaceAsync();
        var b = await app.CreateWorkspaceAsync();
        using var person = await DashboardUser.SignedInAsync(app, a.Id);
        var userId = await app.WithDbAsync(db => db.WorkspaceMembers.Where(m => m.WorkspaceId == a.Id).Select(m => m.UserId).SingleAsync());
        await app.WithDbAsync(async db =>
        {
            db.WorkspaceMembers.Add(new WorkspaceMember { WorkspaceId = b.Id, UserId = userId, Role = WorkspaceRoles.Owner, CreatedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        await person.PostFormAsync("/Dashboard/Workspace", new() { ["id"] = a.Id.ToString() }, formPage: "/Dashboard");

        // Tab 1 shows A's settings; the person then switches to B in tab 2 (the cookie is shared), and tab 1 posts A's kill switch.
        var (_, settingsOfA) = await person.GetAsync("/Dashboard/Settings");
        Assert.Contains($"name=\"workspaceId\" value=\"{a.Id}\"", settingsOfA, StringComparison.Ordinal);
        await person.PostFormAsync("/Dashboard/Workspace", new() { ["id"] = b.Id.ToString() }, formPage: "/Dashboard");
        var stale = await person.PostFormAsync("/Dashboard/Settings?handler=PolicyMode&mode=observe",
            new() { ["workspaceId"] = a.Id.ToString() }, formPage: "/Dashboard/Settings");

        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains("Nothing was changed", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var modes = await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == a.Id || w.Id == b.Id).Select(w => w.PolicyMode).ToListAsync());
        Assert.All(modes, mode => Assert.Equal("enforce", mode));

        // A form without any workspace id (hand-made, or from an old page) is refused the same way.
        var bare = await person.Client.PostAsync("/Dashboard/Settings?handler=PolicyMode&mode=observe", new FormUrlEncodedContent([]));
        Assert.NotEqual(HttpStatusCode.Redirect, bare.StatusCode);

        // The same form, fresh from B's page, works.
        var fresh = await person.PostFormAsync("/Dashboard/Settings?handler=PolicyMode&mode=observe", [], formPage: "/Dashboard/Settings");
        Assert.Equal(HttpStatusCode.Redirect, fresh.StatusCode);
        Assert.Equal("observe", await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == b.Id).Select(w => w.PolicyMode).SingleAsync()));
        Assert.Equal("enforce", await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == a.Id).Select(w => w.PolicyMode).SingleAsync()));
    }
}
