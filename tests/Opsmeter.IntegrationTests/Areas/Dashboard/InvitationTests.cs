using System.Net;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Logging;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

/// <summary>
/// /invite/{token} and /account: who may join a workspace through a link, and what a person may do with their own
/// account. No page sets the password of an account that exists, except its own person's, with the current one.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class InvitationTests(OpsmeterApp app)
{
    private const string AttackerPassword = "the attacker knows this";

    /// <summary>
    /// The path the security review found: an admin of workspace A created an account for victim@ with a password of their
    /// choosing, and when workspace B later added victim@, B's membership went at once to that account, so to A's admin.
    /// <para>
    /// What A's admin can still do: invite victim@ to A, open A's link themselves and choose the password. Opsmeter sends no
    /// email, so it cannot know who reads victim@'s mail; an invitation link is the only proof it has, and A's admin made
    /// that one. What that gets them is an account that belongs to A, which A's admin could see anyway.
    /// </para>
    /// <para>
    /// What they cannot do any more: get into B. B's invitation makes no membership by itself; it needs B's link, which B's
    /// owner sends to the person they mean, AND the victim@ account: signed in to it (the holder of B's link who does not
    /// know its password cannot sign in, and cannot set a password for an account that exists), or creating it (it exists
    /// already). So B's membership goes only to someone who holds both, and the real person, holding B's link but not the
    /// password, finds an account they never made: they tell B's owner instead of being silently replaced. The one way left
    /// for A's admin into B is to obtain B's link as well, and then B sees victim@ join (members list and audit log).
    /// </para>
    /// </summary>
    [Fact]
    public async Task An_account_made_through_one_workspace_gets_into_another_only_with_that_workspaces_link()
    {
        var a = await app.CreateWorkspaceAsync();
        var b = await app.CreateWorkspaceAsync();
        using var adminOfA = await DashboardUser.SignedInAsync(app, a.Id, WorkspaceRoles.Admin);
        using var ownerOfB = await DashboardUser.SignedInAsync(app, b.Id);
        var victim = $"victim-{Guid.NewGuid():N}@example.test";

        // All A can do: invite victim@ to A and accept that link itself, choosing the password.
        var linkOfA = await adminOfA.InviteAsync(victim);
        using var attacker = DashboardUser.For(app);
        Assert.Equal(HttpStatusCode.Redirect, (await attacker.CreateAccountAsync(linkOfA, AttackerPassword)).StatusCode);

        // B invites the same email: nothing happens to the existing account until B's link is used.
        var linkOfB = await ownerOfB.InviteAsync(victim);
        Assert.False(await IsMemberAsync(b.Id, victim));
        var (_, bMembers) = await ownerOfB.GetAsync("/Dashboard/Members");
        Assert.Contains($"data-invitation=\"{victim}\"", bMembers, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-member=\"{victim}\"", bMembers, StringComparison.Ordinal);

        // Signed in as victim@ without B's link, the attacker sees A only; choosing B, or guessing a link, does nothing.
        await attacker.PostFormAsync("/Dashboard/Workspace", new() { ["id"] = b.Id.ToString() }, formPage: "/Dashboard");
        var (_, overview) = await attacker.GetAsync("/Dashboard");
        var (guessed, _) = await attacker.GetAsync($"/invite/{Guid.NewGuid():N}");
        Assert.Contains($"value=\"{a.Id}\" selected", overview, StringComparison.Ordinal);
        Assert.DoesNotContain(b.Id.ToString(), overview, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, guessed.StatusCode);

        // The real person holds B's link but not the password: asked to sign in, offered no password to set, and setting
        // one through the form anyway is refused. The account keeps the attacker's password; B's invitation stays open.
        using var realPerson = DashboardUser.For(app);
        var (opened, page) = await realPerson.GetAsync(linkOfB);
        var setPassword = await realPerson.PostFormAsync(linkOfB + "?handler=Create",
            new() { ["Form.Password"] = "the real person's own", ["Form.ConfirmPassword"] = "the real person's own" }, formPage: "/account/signin");
        var acceptAnonymously = await realPerson.PostFormAsync(linkOfB + "?handler=Accept", new(), formPage: "/account/signin");
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Contains("data-invite=\"sign-in\"", page, StringComparison.Ordinal);
        Assert.Contains($"href=\"/account/signin?returnUrl={Uri.EscapeDataString(linkOfB)}\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Form.Password", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, setPassword.StatusCode);
        Assert.Contains("data-invite=\"sign-in\"", await setPassword.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, acceptAnonymously.StatusCode);
        Assert.False(await IsMemberAsync(b.Id, victim));
        Assert.False(await SignsInAsync(victim, "the real person's own"));
        Assert.True(await SignsInAsync(victim, AttackerPassword));

        // B's link while signed in to another account (A's admin's own) is refused, and says whom it is for.
        var (otherAccount, refusal) = await adminOfA.GetAsync(linkOfB);
        var acceptAsOther = await adminOfA.PostFormAsync(linkOfB + "?handler=Accept", new(), formPage: "/account");
        Assert.Equal(HttpStatusCode.Forbidden, otherAccount.StatusCode);
        Assert.Contains($"This invitation is for {victim}", refusal, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, acceptAsOther.StatusCode);
        Assert.Equal(0, await app.WithDbAsync(db => db.WorkspaceMembers.CountAsync(m => m.WorkspaceId == b.Id && m.Role == WorkspaceRoles.Member)));

        // Both together, B's link and the victim@ account, join B; and B sees who joined.
        var accepted = await attacker.PostFormAsync(linkOfB + "?handler=Accept", new(), formPage: linkOfB);
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.True(await IsMemberAsync(b.Id, victim));
        Assert.True(await app.WithDbAsync(db => db.AuditLog.AnyAsync(e =>
            e.WorkspaceId == b.Id && e.Action == AuditActions.MemberJoined && e.Actor == victim && e.Target == victim)));
    }

    [Fact]
    public async Task An_existing_account_signs_in_through_the_link_accepts_and_works_in_that_workspace()
    {
        var home = await app.CreateWorkspaceAsync();
        var invitedTo = await app.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(app, home.Id, WorkspaceRoles.Member);
        using var owner = await DashboardUser.SignedInAsync(app, invitedTo.Id);
        var link = await owner.InviteAsync(email, WorkspaceRoles.Admin);

        using var person = DashboardUser.For(app);
        var (_, asked) = await person.GetAsync(link);
        var signedIn = await person.PostFormAsync($"/account/signin?returnUrl={Uri.EscapeDataString(link)}",
            new() { ["Form.Email"] = email, ["Form.Password"] = password, ["ReturnUrl"] = link });
        var (_, acceptPage) = await person.GetAsync(signedIn.Headers.Location!.OriginalString);
        var accepted = await person.PostFormAsync(link + "?handler=Accept", new(), formPage: link);
        var (_, overview) = await person.GetAsync("/Dashboard");
        var (_, used) = await person.GetAsync(link);

        Assert.Contains("data-invite=\"sign-in\"", asked, StringComparison.Ordinal);
        Assert.Equal(link, signedIn.Headers.Location?.OriginalString);
        Assert.Contains("data-invite=\"accept\"", acceptPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal("/Dashboard", accepted.Headers.Location?.OriginalString);
        Assert.Contains(
            accepted.Headers.GetValues("Set-Cookie"), c => c.StartsWith($"{CurrentWorkspace.CookieName}={invitedTo.Id}", StringComparison.Ordinal));
        Assert.Contains($"value=\"{invitedTo.Id}\" selected", overview, StringComparison.Ordinal);
        Assert.Equal(WorkspaceRoles.Admin, await app.WithDbAsync(db => (from m in db.WorkspaceMembers
                                                                        join u in db.Users on m.UserId equals u.Id
                                                                        where m.WorkspaceId == invitedTo.Id && u.Email == email
                                                                        select m.Role).SingleAsync()));
        Assert.Contains("data-invite=\"not-valid\"", used, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_used_and_revoked_links_all_get_the_same_answer()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var usedLink = await owner.InviteAsync($"{Guid.NewGuid():N}@example.test");
        using var joiner = DashboardUser.For(app);
        await joiner.CreateAccountAsync(usedLink, "long enough passphrase");
        var revokedEmail = $"{Guid.NewGuid():N}@example.test";
        var revokedLink = await owner.InviteAsync(revokedEmail);
        var revokedId = await app.WithDbAsync(db => db.Invitations.Where(i => i.Email == revokedEmail).Select(i => i.Id).SingleAsync());
        await owner.PostFormAsync($"/Dashboard/Members?handler=Revoke&id={revokedId}", new(), formPage: "/Dashboard/Members");

        using var stranger = DashboardUser.For(app);
        var answers = new List<(HttpStatusCode, string)>();
        foreach (var link in new[] { "/invite/unknown", $"/invite/{new string('x', 43)}", usedLink, revokedLink })
        {
            var (response, html) = await stranger.GetAsync(link);
            answers.Add((response.StatusCode, MainOf(html)));
        }

        Assert.All(answers, a => Assert.Equal(answers[0], a));
        Assert.Equal(HttpStatusCode.NotFound, answers[0].Item1);
        Assert.Contains("This invitation link is not valid", answers[0].Item2, StringComparison.Ordinal);
        // And posting to a used link makes nothing.
        var posted = await stranger.PostFormAsync(usedLink + "?handler=Create",
            new() { ["Form.Password"] = "another passphrase", ["Form.ConfirmPassword"] = "another passphrase" }, formPage: "/account/signin");
        Assert.Equal(HttpStatusCode.NotFound, posted.StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.WorkspaceMembers.CountAsync(m => m.WorkspaceId == ws.Id && m.Role == WorkspaceRoles.Member)));
    }

    [Fact]
    public async Task An_expired_link_gets_the_same_answer_and_the_lifetime_comes_from_configuration()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fresh = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:Invitations:Lifetime"] = "2.00:00:00" },
            services => services.AddSingleton<TimeProvider>(clock));
        await fresh.InitializeAsync();
        var ws = await fresh.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(fresh, ws.Id);
        var email = $"{Guid.NewGuid():N}@example.test";
        var link = await owner.InviteAsync(email);
        var lifetime = await fresh.WithDbAsync(db => db.Invitations.Where(i => i.WorkspaceId == ws.Id).Select(i => i.ExpiresAt - i.CreatedAt).SingleAsync());
        using var person = DashboardUser.For(fresh);
        var (_, unknown) = await person.GetAsync("/invite/unknown");

        clock.Advance(TimeSpan.FromDays(2) - TimeSpan.FromSeconds(1));
        var (stillOpen, _) = await person.GetAsync(link);
        var post = await person.PrepareFormAsync(link + "?handler=Create",
            new() { ["Form.Password"] = "late passphrase", ["Form.ConfirmPassword"] = "late passphrase" }, formPage: link);
        clock.Advance(TimeSpan.FromSeconds(1));
        var (expired, html) = await person.GetAsync(link);
        var posted = await post();

        Assert.Equal(TimeSpan.FromDays(2), lifetime);
        Assert.Equal(HttpStatusCode.OK, stillOpen.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        Assert.Equal(MainOf(unknown), MainOf(html));
        Assert.Equal(HttpStatusCode.NotFound, posted.StatusCode);
        Assert.False(await fresh.WithDbAsync(db => db.Users.AnyAsync(u => u.Email == email)));
    }

    [Fact]
    public async Task Racing_acceptances_of_one_invitation_make_exactly_one_membership()
    {
        var ws = await app.CreateWorkspaceAsync();
        var elsewhere = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        // No account yet: eight holders of the link set a password at the same moment.
        var newcomer = $"{Guid.NewGuid():N}@example.test";
        var link = await owner.InviteAsync(newcomer);
        var holders = Enumerable.Range(0, 8).Select(_ => DashboardUser.For(app)).ToList();
        var creates = await Task.WhenAll(holders.Select((h, i) => h.PrepareFormAsync(link + "?handler=Create",
            new() { ["Form.Password"] = $"passphrase number {i}", ["Form.ConfirmPassword"] = $"passphrase number {i}" }, formPage: link)));
        var created = await Task.WhenAll(creates.Select(post => Task.Run(post)));

        // An existing account signed in eight times: all sessions accept at the same moment.
        var (existing, password) = await DashboardUser.CreatePersonAsync(app, elsewhere.Id);
        var link2 = await owner.InviteAsync(existing);
        var sessions = new List<DashboardUser>();
        for (var i = 0; i < 8; i++)
        {
            sessions.Add(await DashboardUser.SignInAsync(app, existing, password));
        }

        var accepts = await Task.WhenAll(sessions.Select(s => s.PrepareFormAsync(link2 + "?handler=Accept", new(), formPage: link2)));
        var accepted = await Task.WhenAll(accepts.Select(post => Task.Run(post)));

        foreach (var responses in new[] { created, accepted })
        {
            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Redirect);
            Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Redirect), r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        }

        Assert.Equal(1, await app.WithDbAsync(db => db.Users.CountAsync(u => u.Email == newcomer)));
        foreach (var email in new[] { newcomer, existing })
        {
            Assert.Equal(1, await app.WithDbAsync(db => (from m in db.WorkspaceMembers
                                                         join u in db.Users on m.UserId equals u.Id
                                                         where m.WorkspaceId == ws.Id && u.Email == email
                                                         select m).CountAsync()));
            Assert.Equal(1, await app.WithDbAsync(db =>
                db.AuditLog.CountAsync(e => e.WorkspaceId == ws.Id && e.Action == AuditActions.MemberJoined && e.Target == email)));
        }

        holders.ForEach(h => h.Dispose());
        sessions.ForEach(s => s.Dispose());
    }

    /// <summary>
    /// The pages that take a password, each with why it cannot set another person's: a new page that takes one fails this
    /// test until it is added here, with its reason, and tested.
    /// </summary>
    [Fact]
    public async Task No_page_sets_the_password_of_someone_elses_account()
    {
        string[] takesAPassword =
        [
            "Opsmeter.Web.Pages.Account.IndexModel", // the signed-in person's own, and only with their current password (below)
            "Opsmeter.Web.Pages.Account.SignInModel", // checks one, sets none
            "Opsmeter.Web.Pages.InviteModel", // creates an account that does not exist yet; never sets one that does (below)
            "Opsmeter.Web.Pages.SetupModel", // the first account, only while there is none (FirstRunTests)
        ];
        var pages = typeof(CurrentWorkspace).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(PageModel)));
        var found = pages.Where(TakesAPassword).Select(t => t.FullName!).Order(StringComparer.Ordinal);
        Assert.Equal(takesAPassword, found);

        // The Members page's old "add with an initial password" is gone: posting it creates no account.
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var email = $"{Guid.NewGuid():N}@example.test";
        await owner.PostFormAsync("/Dashboard/Members?handler=Add",
            new() { ["Form.Email"] = email, ["Form.Role"] = "member", ["Form.InitialPassword"] = "chosen by the admin" }, formPage: "/Dashboard/Members");
        Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync(u => u.Email == email)));

        // The account page changes only the signed-in person's password, and only with the current one.
        var (victim, password) = await DashboardUser.CreatePersonAsync(app, ws.Id, WorkspaceRoles.Member);
        var wrong = await owner.PostFormAsync("/account?handler=Password", new()
        {
            ["Form.CurrentPassword"] = "a guess at it", ["Form.NewPassword"] = "chosen by the admin", ["Form.ConfirmPassword"] = "chosen by the admin",
            ["Email"] = victim, ["UserId"] = Guid.Empty.ToString(),
        });
        Assert.Contains("That is not your current password", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(await SignsInAsync(victim, password));
        Assert.False(await SignsInAsync(victim, "chosen by the admin"));
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("http:evil.example")]
    [InlineData("/invite/abc")]
    public async Task Sign_in_returns_only_to_an_address_of_this_site(string returnUrl)
    {
        var ws = await app.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var person = DashboardUser.For(app);

        var response = await person.PostFormAsync($"/account/signin?returnUrl={Uri.EscapeDataString(returnUrl)}",
            new() { ["Form.Email"] = email, ["Form.Password"] = password, ["ReturnUrl"] = returnUrl });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(returnUrl.StartsWith("/invite/", StringComparison.Ordinal) ? returnUrl : "/Dashboard", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_changed_password_works_the_old_one_does_not_and_other_sessions_end()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var here = await DashboardUser.SignInAsync(app, email, password);
        using var elsewhere = await DashboardUser.SignInAsync(app, email, password);

        var mismatch = await here.PostFormAsync("/account?handler=Password", new()
        {
            ["Form.CurrentPassword"] = password, ["Form.NewPassword"] = "a brand new passphrase", ["Form.ConfirmPassword"] = "a brand new passphrase!",
        });
        var changed = await here.PostFormAsync("/account?handler=Password", new()
        {
            ["Form.CurrentPassword"] = password, ["Form.NewPassword"] = "a brand new passphrase", ["Form.ConfirmPassword"] = "a brand new passphrase",
        });
        var (_, account) = await here.GetAsync("/account");
        var (stillHere, _) = await here.GetAsync("/Dashboard");
        var (gone, _) = await elsewhere.GetAsync("/Dashboard");

        Assert.Contains("The two new passwords differ", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        Assert.Contains("Password changed", account, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, stillHere.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, gone.StatusCode);
        Assert.StartsWith("/account/signin", gone.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.False(await SignsInAsync(email, password));
        Assert.True(await SignsInAsync(email, "a brand new passphrase"));
    }

    [Fact]
    public async Task Signing_out_other_sessions_ends_them_at_their_next_request_and_keeps_this_one()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var here = await DashboardUser.SignInAsync(app, email, password);
        using var elsewhere = await DashboardUser.SignInAsync(app, email, password);
        var (before, _) = await elsewhere.GetAsync("/Dashboard");

        var signedOut = await here.PostFormAsync("/account?handler=SignOutOthers", new());
        var (stillHere, _) = await here.GetAsync("/Dashboard/Members");
        var (gone, _) = await elsewhere.GetAsync("/Dashboard/Members");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stillHere.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, gone.StatusCode);
        Assert.StartsWith("/account/signin", gone.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.True(await SignsInAsync(email, password));
    }

    [Fact]
    public async Task The_account_page_is_for_signed_in_people_and_the_log_never_shows_a_token()
    {
        using var stranger = DashboardUser.For(app);
        var (response, _) = await stranger.GetAsync("/account");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/signin", response.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("/invite/…", LoggingSetup.Redact("/invite/q3Zx0abc-_def"));
        Assert.Equal("/Dashboard/Members", LoggingSetup.Redact("/Dashboard/Members"));
    }

    private static bool TakesAPassword(Type page) =>
        page.GetProperties().Where(p => p.IsDefined(typeof(BindPropertyAttribute), inherit: true))
            .SelectMany(p => p.PropertyType.GetProperties().Select(x => x.Name).Append(p.Name))
            .Concat(page.GetMethods().Where(m => m.Name.StartsWith("OnPost", StringComparison.Ordinal))
                .SelectMany(m => m.GetParameters().Select(x => x.Name ?? "")))
            .Any(name => name.Contains("password", StringComparison.OrdinalIgnoreCase));

    private async Task<bool> SignsInAsync(string email, string password)
    {
        using var person = DashboardUser.For(app);
        var response = await person.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = password });
        return response.StatusCode == HttpStatusCode.Redirect;
    }

    private Task<bool> IsMemberAsync(Guid workspaceId, string email) =>
        app.WithDbAsync(db => (from m in db.WorkspaceMembers
                               join u in db.Users on m.UserId equals u.Id
                               where m.WorkspaceId == workspaceId && u.Email == email
                               select m).AnyAsync());

    /// <summary>What the page says, without the parts that differ per request (antiforgery tokens live outside main).</summary>
    private static string MainOf(string html) =>
        html[html.IndexOf("<main>", StringComparison.Ordinal)..html.IndexOf("</main>", StringComparison.Ordinal)];
}
