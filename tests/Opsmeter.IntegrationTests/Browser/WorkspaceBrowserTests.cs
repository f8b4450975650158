using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;
using static Microsoft.Playwright.Assertions;

namespace Opsmeter.IntegrationTests.Browser;

/// <summary>Workspaces as a person handles them: real Chromium against the real app (as <see cref="DashboardBrowserTests"/>).</summary>
[Collection(SharedApp.Name)]
public sealed class WorkspaceBrowserTests(OpsmeterApp app, Chromium chromium) : IClassFixture<Chromium>
{
    [Fact]
    public async Task An_instance_admin_creates_a_workspace_lands_in_it_and_switches_back_and_forth()
    {
        var ws = await app.CreateWorkspaceAsync();
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var home = $"home-{suffix}";
        var created = $"team-{suffix}";
        await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).ExecuteUpdateAsync(w => w.SetProperty(x => x.Name, home)));
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id, WorkspaceRoles.Member, instanceAdmin: true);
        using var probe = app.CreateClient();
        var page = await chromium.NewPageAsync(probe.BaseAddress!);
        await page.GotoAsync("/account/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(Heading(page, home)).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Workspaces", Exact = true }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(created);
        await Chromium.ScreenshotAsync(page, "workspaces");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();
        await Expect(Heading(page, created)).ToBeVisibleAsync();
        await Expect(page.Locator("#workspace-switch")).ToHaveValueAsync(await IdOfAsync(created));

        await page.Locator("#workspace-switch").SelectOptionAsync(new SelectOptionValue { Label = home });
        await Expect(Heading(page, home)).ToBeVisibleAsync();
        await page.Locator("#workspace-switch").SelectOptionAsync(new SelectOptionValue { Label = created });
        await Expect(Heading(page, created)).ToBeVisibleAsync();
    }

    private static ILocator Heading(IPage page, string workspace) =>
        page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex($"^Overview · {Regex.Escape(workspace)}$") });

    private async Task<string> IdOfAsync(string name) =>
        (await app.WithDbAsync(db => db.Workspaces.Where(w => w.Name == name).Select(w => w.Id).SingleAsync())).ToString();
}
