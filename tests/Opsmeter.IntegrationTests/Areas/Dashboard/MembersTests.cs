using System.Net;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed class MembersTests(OpsmeterApp app)
{
    [Fact]
    public async Task An_owner_adds_a_member_who_can_then_sign_in_to_that_workspace()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var email = $"{Guid.NewGuid():N}@example.test";

        var added = await owner.PostFormAsync("/Dashboard/Members?handler=Add",
            new() { ["Form.Email"] = email, ["Form.Role"] = "member", ["Form.InitialPassword"] = "first day passphrase" }, formPage: "/Dashboard/Members");
        using var member = DashboardUser.For(app);
        var signedIn = await member.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = "first day passphrase" });
        var (_, list) = await member.GetAsync("/Dashboard/Members");

        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Contains($"data-member=\"{email}\"", list, StringComparison.Ordinal);
        Assert.DoesNotContain("Add a member", list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_cannot_add_people()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);

        var response = await member.PostFormAsync("/Dashboard/Members?handler=Add",
            new() { ["Form.Email"] = "x@example.test", ["Form.Role"] = "admin", ["Form.InitialPassword"] = "whatever passphrase" }, formPage: "/Dashboard/Members");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/denied", response.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_last_owner_stays_and_an_admin_cannot_make_owners()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Admin);
        var (_, page) = await owner.GetAsync("/Dashboard/Members");
        var ownerId = System.Text.RegularExpressions.Regex.Match(page, "<td>owner</td>[\\s\\S]*?userId=([0-9a-f-]{36})").Groups[1].Value;

        await owner.PostFormAsync($"/Dashboard/Members?handler=Change&userId={ownerId}", new() { ["role"] = "member" }, formPage: "/Dashboard/Members");
        var (_, afterDemote) = await owner.GetAsync("/Dashboard/Members");
        var byAdmin = await admin.PostFormAsync("/Dashboard/Members?handler=Add",
            new() { ["Form.Email"] = $"{Guid.NewGuid():N}@example.test", ["Form.Role"] = "owner", ["Form.InitialPassword"] = "some long passphrase" }, formPage: "/Dashboard/Members");

        Assert.Contains("keeps at least one owner", afterDemote, StringComparison.Ordinal);
        Assert.Contains("Only an owner can add an owner", await byAdmin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
