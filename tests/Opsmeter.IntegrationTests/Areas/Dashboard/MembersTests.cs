using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

/// <summary>The Members page: invitations instead of passwords chosen for others, roles, removal, and their audit.</summary>
[Collection(SharedApp.Name)]
public sealed partial class MembersTests(OpsmeterApp app)
{
    [Fact]
    public async Task An_owner_invites_a_person_who_chooses_their_own_password_and_lands_in_that_workspace()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (ownerEmail, ownerPassword) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var owner = await DashboardUser.SignInAsync(app, ownerEmail, ownerPassword);
        var email = $"{Guid.NewGuid():N}@example.test";

        var response = await owner.PostFormAsync("/Dashboard/Members?handler=Invite", new() { ["Form.Email"] = email, ["Form.Role"] = "member" },
            formPage: "/Dashboard/Members");
        var created = await response.Content.ReadAsStringAsync();
        var link = LinkOnPage().Match(created).Groups[1].Value;
        var (_, later) = await owner.GetAsync("/Dashboard/Members");

        // An absolute link from the request, shown on that one response and never again; listed as pending meanwhile.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith($"{owner.Client.BaseAddress!.ToString().TrimEnd('/')}/invite/", link, StringComparison.Ordinal);
        Assert.DoesNotContain("/invite/", later, StringComparison.Ordinal);
        var pending = Regex.Match(later, $"<tr data-invitation=\"{Regex.Escape(email)}\">([\\s\\S]*?)</tr>").Groups[1].Value;
        Assert.Contains("<td>member</td>", pending, StringComparison.Ordinal);
        Assert.Contains($"<td>{ownerEmail}</td>", pending, StringComparison.Ordinal);
        Assert.Matches(@"<td>\d{4}-\d{2}-\d{2} \d{2}:\d{2}</td>", pending);
        // The token is 256 random bits; only its SHA-256 hash is stored.
        var token = link[(link.LastIndexOf('/') + 1)..];
        Assert.True(token.Length >= 43, token);
        var stored = await app.WithDbAsync(db => db.Invitations.Where(i => i.WorkspaceId == ws.Id).Select(i => i.TokenHash).SingleAsync());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))), stored);

        using var invitee = DashboardUser.For(app);
        var path = new Uri(link).PathAndQuery;
        var (opened, form) = await invitee.GetAsync(path);
        var joined = await invitee.CreateAccountAsync(path, "first day passphrase");
        var (_, list) = await invitee.GetAsync("/Dashboard/Members");

        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Contains("data-invite=\"create-account\"", form, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, joined.StatusCode);
        Assert.Equal("/Dashboard", joined.Headers.Location?.OriginalString);
        Assert.Contains($"data-member=\"{email}\"", list, StringComparison.Ordinal);
        Assert.Contains("data-invitations=\"none\"", list, StringComparison.Ordinal);
        Assert.DoesNotContain("Invite someone", list, StringComparison.Ordinal);
        using var again = await DashboardUser.SignInAsync(app, email, "first day passphrase");
    }

    [Fact]
    public async Task A_member_can_neither_invite_nor_revoke()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);
        var invited = $"{Guid.NewGuid():N}@example.test";
        await owner.InviteAsync(invited);
        var id = await OpenInvitationAsync(ws.Id, invited);

        var invite = await member.PostFormAsync("/Dashboard/Members?handler=Invite",
            new() { ["Form.Email"] = "x@example.test", ["Form.Role"] = "admin" }, formPage: "/Dashboard/Members");
        var revoke = await member.PostFormAsync($"/Dashboard/Members?handler=Revoke&id={id}", new(), formPage: "/Dashboard/Members");
        var (denied, _) = await member.GetAsync(invite.Headers.Location!.PathAndQuery);

        foreach (var refused in new[] { invite, revoke })
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.StartsWith("/account/denied", refused.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.Invitations.CountAsync(i => i.WorkspaceId == ws.Id)));
        Assert.Equal(id, await OpenInvitationAsync(ws.Id, invited));
    }

    [Fact]
    public async Task The_last_owner_stays_and_an_admin_cannot_make_owners()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Admin);
        var (_, page) = await owner.GetAsync("/Dashboard/Members");
        var ownerId = Regex.Match(page, "<td>owner</td>[\\s\\S]*?userId=([0-9a-f-]{36})").Groups[1].Value;

        await owner.PostFormAsync($"/Dashboard/Members?handler=Change&userId={ownerId}", new() { ["role"] = "member" }, formPage: "/Dashboard/Members");
        var (_, afterDemote) = await owner.GetAsync("/Dashboard/Members");
        var byAdmin = await admin.PostFormAsync("/Dashboard/Members?handler=Invite",
            new() { ["Form.Email"] = $"{Guid.NewGuid():N}@example.test", ["Form.Role"] = "owner" }, formPage: "/Dashboard/Members");
        var (_, adminPage) = await admin.GetAsync("/Dashboard/Members");
        var (_, ownerPage) = await owner.GetAsync("/Dashboard/Members");

        Assert.Contains("keeps at least one owner", afterDemote, StringComparison.Ordinal);
        Assert.Contains("Only an owner can invite an owner", await byAdmin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await app.WithDbAsync(db => db.Invitations.CountAsync(i => i.WorkspaceId == ws.Id)));
        Assert.DoesNotContain("<option value=\"owner\">owner</option>", InviteForm(adminPage), StringComparison.Ordinal);
        Assert.Contains("<option value=\"owner\">owner</option>", InviteForm(ownerPage), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_is_not_invited_again_and_a_second_invitation_replaces_the_first()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (ownerEmail, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var owner = await DashboardUser.SignInAsync(app, ownerEmail, password);
        var email = $"{Guid.NewGuid():N}@example.test";

        var member = await owner.PostFormAsync("/Dashboard/Members?handler=Invite",
            new() { ["Form.Email"] = ownerEmail.ToUpperInvariant(), ["Form.Role"] = "member" }, formPage: "/Dashboard/Members");
        var first = await owner.InviteAsync(email);
        var second = await owner.InviteAsync(email.ToUpperInvariant(), WorkspaceRoles.Admin);
        using var person = DashboardUser.For(app);
        var (firstOpened, firstPage) = await person.GetAsync(first);
        var (secondOpened, _) = await person.GetAsync(second);
        var (_, list) = await owner.GetAsync("/Dashboard/Members");

        Assert.Contains("is already a member of this workspace", await member.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, firstOpened.StatusCode);
        Assert.Contains("data-invite=\"not-valid\"", firstPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, secondOpened.StatusCode);
        Assert.Single(Regex.Matches(list, "<tr data-invitation="));
        Assert.Contains("<td>admin</td>", Regex.Match(list, "<tr data-invitation=[\\s\\S]*?</tr>").Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_invitation_leaves_the_list_and_its_link_stops_working()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var admin = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Admin);
        var email = $"{Guid.NewGuid():N}@example.test";
        var link = await admin.InviteAsync(email);

        var revoked = await admin.PostFormAsync($"/Dashboard/Members?handler=Revoke&id={await OpenInvitationAsync(ws.Id, email)}", new(),
            formPage: "/Dashboard/Members");
        var (_, list) = await admin.GetAsync("/Dashboard/Members");
        using var person = DashboardUser.For(app);
        var (opened, _) = await person.GetAsync(link);

        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        Assert.Contains("Invitation revoked", list, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-invitation=\"{email}\"", list, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, opened.StatusCode);
    }

    [Fact]
    public async Task Invitations_joins_role_changes_and_removals_are_audited()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (ownerEmail, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var owner = await DashboardUser.SignInAsync(app, ownerEmail, password);
        var joiner = $"{Guid.NewGuid():N}@example.test";
        var dropped = $"{Guid.NewGuid():N}@example.test";

        var link = await owner.InviteAsync(joiner, WorkspaceRoles.Admin);
        await owner.InviteAsync(dropped);
        await owner.InviteAsync(dropped); // replaces the first
        await owner.PostFormAsync($"/Dashboard/Members?handler=Revoke&id={await OpenInvitationAsync(ws.Id, dropped)}", new(), formPage: "/Dashboard/Members");
        using var person = DashboardUser.For(app);
        Assert.Equal(HttpStatusCode.Redirect, (await person.CreateAccountAsync(link, "a passphrase of mine")).StatusCode);
        var joinerId = await app.WithDbAsync(db => db.Users.Where(u => u.Email == joiner).Select(u => u.Id).SingleAsync());
        await owner.PostFormAsync($"/Dashboard/Members?handler=Change&userId={joinerId}", new() { ["role"] = "member" }, formPage: "/Dashboard/Members");
        await owner.PostFormAsync($"/Dashboard/Members?handler=Change&userId={joinerId}", new() { ["role"] = "" }, formPage: "/Dashboard/Members");

        // The workspace's test key (made by CreateWorkspaceAsync) has its own entry; this test is about people.
        var entries = await app.WithDbAsync(db => db.AuditLog.Where(a => a.WorkspaceId == ws.Id && a.Action != AuditActions.KeyCreated).OrderBy(a => a.Id)
            .Select(a => new { a.Action, a.Actor, a.Target, a.Before, a.After }).ToListAsync());
        Assert.Equal(
        [
            (AuditActions.InvitationCreated, ownerEmail, joiner, null, "admin"),
            (AuditActions.InvitationCreated, ownerEmail, dropped, null, "member"),
            (AuditActions.InvitationRevoked, ownerEmail, dropped, "member", "replaced by a new invitation"),
            (AuditActions.InvitationCreated, ownerEmail, dropped, null, "member"),
            (AuditActions.InvitationRevoked, ownerEmail, dropped, "member", null),
            (AuditActions.MemberJoined, joiner, joiner, null, "admin"),
            (AuditActions.MemberRoleChanged, ownerEmail, joiner, "admin", "member"),
            (AuditActions.MemberRemoved, ownerEmail, joiner, "member", null),
        ], entries.Select(e => (e.Action, e.Actor, e.Target, e.Before, e.After)));
        Assert.False(await app.WithDbAsync(db => db.WorkspaceMembers.AnyAsync(m => m.WorkspaceId == ws.Id && m.UserId == joinerId)));
    }

    private Task<Guid> OpenInvitationAsync(Guid workspaceId, string email) =>
        app.WithDbAsync(db => db.Invitations
            .Where(i => i.WorkspaceId == workspaceId && i.Email == email && i.AcceptedAt == null && i.RevokedAt == null)
            .Select(i => i.Id).SingleAsync());

    private static string InviteForm(string html) => html[html.IndexOf("Invite someone", StringComparison.Ordinal)..];

    [GeneratedRegex("id=\"invite-link\">([^<]+)<")]
    private static partial Regex LinkOnPage();
}
