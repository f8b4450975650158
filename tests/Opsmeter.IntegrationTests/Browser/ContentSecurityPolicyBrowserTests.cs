using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;
using static Microsoft.Playwright.Assertions;

namespace Opsmeter.IntegrationTests.Browser;

/// <summary>
/// The strict Content-Security-Policy as Chromium enforces it: no page of the dashboard trips it (a blocked inline
/// handler or style would be reported), and what used to be inline (confirmations, the workspace switcher, bars) still works.
/// </summary>
[Collection(SharedApp.Name)]
public sealed class ContentSecurityPolicyBrowserTests(OpsmeterApp app, Chromium chromium) : IClassFixture<Chromium>
{
    private const string CollectViolations = """
        window.__problems = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__problems.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));
        """;

    [Fact]
    public async Task The_main_pages_break_no_policy_and_their_scripts_still_work()
    {
        var ws = await app.CreateWorkspaceAsync();
        var home = $"csp-{Guid.NewGuid():N}"[..12];
        await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).ExecuteUpdateAsync(w => w.SetProperty(x => x.Name, home)));
        await ws.Client.PostAsync("/v1/ingest/demo", null);
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id, WorkspaceRoles.Owner, instanceAdmin: true);
        using var probe = app.CreateClient();
        var page = await chromium.NewPageAsync(probe.BaseAddress!);
        await page.AddInitScriptAsync(CollectViolations);
        var console = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                console.Add($"{page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => console.Add($"{page.Url}: {error}");

        await page.GotoAsync("/account/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex("^Overview") })).ToBeVisibleAsync();
        await page.GotoAsync("/Dashboard?dataMode=demo");
        // The bars' widths come from data-width through site.js now that style attributes are refused.
        await Expect(page.Locator("span.bar[data-width]").First).ToHaveAttributeAsync("style", new Regex(@"width: [\d.]+%"));

        foreach (var path in new[] { "/Dashboard?dataMode=demo", "/Dashboard/Events?dataMode=demo", "/Dashboard/Budgets", "/Dashboard/Alerts", "/Dashboard/Settings",
                     "/Dashboard/Members", "/Dashboard/Prices", "/Dashboard/Audit", "/Dashboard/Workspaces", "/Dashboard/Keys", "/account" })
        {
            var response = await page.GotoAsync(path);
            Assert.True(response?.Ok, $"{path} answered {response?.Status}");
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            Assert.Empty(await page.EvaluateAsync<string[]>("window.__problems"));
        }

        // Confirm on delete: dismissed, nothing happens; accepted, the key is revoked.
        await page.GotoAsync("/Dashboard/Keys");
        await page.GetByLabel("Name").FillAsync("csp key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var prefix = (await page.Locator("#new-key").TextContentAsync())!.Trim()[..11];
        var row = page.Locator($"tr[data-prefix='{prefix}']");
        var answer = false;
        var asked = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            asked.Add(dialog.Message);
            await (answer ? dialog.AcceptAsync() : dialog.DismissAsync());
        };
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        Assert.Equal([$"Revoke {prefix}? Apps using it stop at once."], asked);
        await Expect(row).Not.ToContainTextAsync("revoked");
        answer = true;
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator($"tr[data-prefix='{prefix}']")).ToContainTextAsync("revoked");

        // The workspace switcher submits itself on change.
        var other = $"csp2-{Guid.NewGuid():N}"[..12];
        await page.GotoAsync("/Dashboard/Workspaces");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(other);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();
        await Expect(Overview(page, other)).ToBeVisibleAsync();
        await page.Locator("#workspace-switch").SelectOptionAsync(new SelectOptionValue { Label = home });
        await Expect(Overview(page, home)).ToBeVisibleAsync();

        Assert.Empty(await page.EvaluateAsync<string[]>("window.__problems"));
        Assert.True(console.Count == 0, string.Join('\n', console));
    }

    private static ILocator Overview(IPage page, string workspace) =>
        page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex($"^Overview · {Regex.Escape(workspace)}$") });
}
