using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Opsmeter.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Opsmeter.IntegrationTests.Browser;

/// <summary>People and their accounts as they use them: an invitation from one browser accepted in another, a password changed.</summary>
[Collection(SharedApp.Name)]
public sealed class PeopleBrowserTests(OpsmeterApp app, Chromium chromium) : IClassFixture<Chromium>
{
    [Fact]
    public async Task An_invitation_made_on_the_members_page_is_accepted_in_another_browser()
    {
        var ws = await app.CreateWorkspaceAsync();
        var name = $"team-{ws.Id.ToString()[^4..]}";
        await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).ExecuteUpdateAsync(w => w.SetProperty(x => x.Name, name)));
        var email = $"{Guid.NewGuid():N}@example.test";
        var inviter = await SignedInPageAsync(ws.Id);

        await inviter.GetByRole(AriaRole.Link, new() { Name = "Members" }).ClickAsync();
        await inviter.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await inviter.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("admin");
        await inviter.GetByRole(AriaRole.Button, new() { Name = "Create invitation" }).ClickAsync();
        var link = (await inviter.Locator("#invite-link").TextContentAsync())!.Trim();
        await Expect(inviter.Locator($"tr[data-invitation='{email}']")).ToContainTextAsync("admin");
        await Chromium.ScreenshotAsync(inviter, "members");

        // Another browser context: none of the inviter's cookies.
        var invitee = await chromium.NewPageAsync(Address());
        await invitee.GotoAsync(link);
        await Expect(invitee.GetByRole(AriaRole.Heading, new() { Name = $"Join {name}" })).ToBeVisibleAsync();
        await invitee.GetByLabel("Password (10 characters or more)").FillAsync("a passphrase of my own");
        await invitee.GetByLabel("The same password again").FillAsync("a passphrase of my own");
        await Chromium.ScreenshotAsync(invitee, "invitation");
        await invitee.GetByRole(AriaRole.Button, new() { Name = "Create account and join" }).ClickAsync();

        await Expect(invitee.GetByRole(AriaRole.Heading, new() { Name = $"Overview · {name}" })).ToBeVisibleAsync();
        await Expect(invitee.Locator("#workspace-switch")).ToHaveValueAsync(ws.Id.ToString());
        await inviter.ReloadAsync();
        await Expect(inviter.Locator($"tr[data-member='{email}']")).ToContainTextAsync("admin");
        await Expect(inviter.Locator($"tr[data-invitation='{email}']")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_password_changed_on_the_account_page_is_the_one_that_signs_in()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        var page = await SignInAsync(email, password);

        await page.GetByRole(AriaRole.Link, new() { Name = "Account", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
        await page.GetByLabel("Current password").FillAsync(password);
        await page.GetByLabel("New password (10 characters or more)").FillAsync("my new passphrase");
        await page.GetByLabel("The new password again").FillAsync("my new passphrase");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Password changed");
        await Chromium.ScreenshotAsync(page, "account");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/account/signin$"));

        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("That email and password do not match an account.")).ToBeVisibleAsync();
        await page.GetByLabel("Password").FillAsync("my new passphrase");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex("^Overview") })).ToBeVisibleAsync();
    }

    private Uri Address()
    {
        using var probe = app.CreateClient();
        return probe.BaseAddress!;
    }

    private async Task<IPage> SignedInPageAsync(Guid workspaceId)
    {
        var (email, password) = await DashboardUser.CreatePersonAsync(app, workspaceId);
        return await SignInAsync(email, password);
    }

    private async Task<IPage> SignInAsync(string email, string password)
    {
        var page = await chromium.NewPageAsync(Address());
        await page.GotoAsync("/account/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex("^Overview") })).ToBeVisibleAsync();
        return page;
    }
}
