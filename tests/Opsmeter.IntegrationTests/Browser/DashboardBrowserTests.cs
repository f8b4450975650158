using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Opsmeter.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Opsmeter.IntegrationTests.Browser;

/// <summary>The dashboard as a person uses it: real Chromium, real clicks, against the real app over Kestrel.</summary>
[Collection(SharedApp.Name)]
public sealed class DashboardBrowserTests(OpsmeterApp app, Chromium chromium) : IClassFixture<Chromium>
{
    [Fact]
    public async Task First_run_setup_creates_the_owner_and_opens_an_empty_overview()
    {
        await using var fresh = new OpsmeterApp();
        await fresh.InitializeAsync();
        var page = await chromium.NewPageAsync(Address(fresh));

        await page.GotoAsync("/Dashboard");
        await Expect(page).ToHaveURLAsync(new Regex("/setup$"));
        await Chromium.ScreenshotAsync(page, "setup");
        await page.GetByLabel("Your email").FillAsync("owner@example.test");
        await page.GetByLabel("Password (10 characters or more)").FillAsync("a long enough passphrase");
        await page.GetByLabel("First workspace").FillAsync("acme");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account and workspace" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview · acme" })).ToBeVisibleAsync();
        await Expect(page.GetByText("No events yet")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Sign_in_see_the_overview_and_drill_down_to_an_event()
    {
        var ws = await app.CreateWorkspaceAsync();
        // gpt-4o: 1000 in + 100 out = $0.0035
        await ws.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = "browser-1", Model = "gpt-4o", EndpointTag = "checkout.assist", InputTokens = 1000, OutputTokens = 100, LatencyMs = 900 }.Content());
        var page = await SignedInPageAsync(ws.Id);

        await Expect(page.Locator("[data-figure=spend]")).ToHaveTextAsync("$0.003500");
        await page.GetByRole(AriaRole.Link, new() { Name = "checkout.assist" }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex("^Events") })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "browser-1" }).ClickAsync();

        await Expect(page.Locator("[data-figure=cost]")).ToHaveTextAsync("$0.003500");
        await Expect(page.GetByText("Priced by openai / gpt-4o")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "event");
    }

    [Fact]
    public async Task Create_a_key_shown_once_and_revoke_it()
    {
        var ws = await app.CreateWorkspaceAsync();
        var page = await SignedInPageAsync(ws.Id);

        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("browser key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var key = (await page.Locator("#new-key").TextContentAsync())!.Trim();
        Assert.StartsWith("om_", key, StringComparison.Ordinal);
        await Chromium.ScreenshotAsync(page, "api-keys");

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.Locator($"tr[data-prefix='{key[..11]}']").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator($"tr[data-prefix='{key[..11]}']")).ToContainTextAsync("revoked");

        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        var response = await client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = null }.Content());
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_main_pages_render_with_demo_data()
    {
        var ws = await app.CreateWorkspaceAsync();
        var name = $"acme-{ws.Id.ToString()[^4..]}";
        await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).ExecuteUpdateAsync(w => w.SetProperty(x => x.Name, name)));
        await ws.Client.PostAsync("/v1/ingest/demo", null);
        var page = await SignedInPageAsync(ws.Id);

        await page.GotoAsync("/Dashboard?dataMode=demo");
        await Expect(page.Locator("#spend-chart")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "overview");
        await page.GotoAsync("/Dashboard/Breakdown/model?dataMode=demo");
        await Expect(page.Locator("table[data-breakdown=model] tbody tr")).Not.ToHaveCountAsync(0);
        await Chromium.ScreenshotAsync(page, "models");
        await page.GotoAsync("/Dashboard/Events?dataMode=demo");
        await Chromium.ScreenshotAsync(page, "events");
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/Dashboard?dataMode=demo");
        await Expect(page.Locator("[data-figure=spend]")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "overview-phone");
    }

    [Fact]
    public async Task Create_a_budget_see_it_exceeded_acknowledge_the_incident_and_add_a_webhook()
    {
        var ws = await app.CreateWorkspaceAsync();
        await Features.Budgets.BudgetTestKit.IngestCostAsync(ws, 12m, DateTimeOffset.UtcNow.AddMinutes(-1), endpointTag: "support-chat");
        var page = await SignedInPageAsync(ws.Id);

        await page.GetByRole(AriaRole.Link, new() { Name = "Budgets" }).ClickAsync();
        await Expect(page.GetByText("No budgets yet")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Create the first budget" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("support monthly");
        await page.GetByLabel("Applies to").SelectOptionAsync("endpointTag");
        await page.GetByLabel("Value").FillAsync("support-chat");
        await page.GetByLabel("Limit (USD)").FillAsync("10");
        await page.GetByLabel("When exceeded, /v1/policy says").SelectOptionAsync("fallback");
        await page.GetByLabel("Fallback model").FillAsync("gpt-4o-mini");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save budget" }).ClickAsync();

        var row = page.Locator("tr[data-budget='support monthly']");
        await Expect(row.Locator("[data-state]")).ToHaveTextAsync("exceeded");
        await Expect(row.Locator("[data-spend]")).ToHaveTextAsync("$12.00");
        await Expect(row.GetByRole(AriaRole.Meter)).ToHaveAttributeAsync("aria-valuenow", "120");
        await Chromium.ScreenshotAsync(page, "budgets");

        await page.GetByRole(AriaRole.Link, new() { Name = "Incidents" }).First.ClickAsync();
        var incident = page.Locator("tr[data-incident='support monthly']");
        await Expect(incident).ToContainTextAsync("exceeded");
        await Chromium.ScreenshotAsync(page, "incidents");
        await incident.GetByLabel("Note").FillAsync("moving support to the mini model");
        await incident.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Expect(page.Locator("tr[data-incident='support monthly'] [data-state]")).ToContainTextAsync("acknowledged");

        await page.GetByRole(AriaRole.Link, new() { Name = "Alerts" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("#ai-costs");
        await page.GetByLabel("URL").FillAsync("https://hooks.example.test/opsmeter");
        await page.GetByLabel("Format").SelectOptionAsync("slack");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add channel" }).ClickAsync();
        Assert.StartsWith("whsec_", (await page.Locator("#new-secret").TextContentAsync())!.Trim(), StringComparison.Ordinal);
        await Expect(page.Locator("tr[data-channel='#ai-costs']")).ToContainTextAsync("slack");
        await Chromium.ScreenshotAsync(page, "alerts");
    }

    private static Uri Address(OpsmeterApp target)
    {
        using var probe = target.CreateClient();
        return probe.BaseAddress!;
    }

    private async Task<IPage> SignedInPageAsync(Guid workspaceId)
    {
        var (email, password) = await DashboardUser.CreatePersonAsync(app, workspaceId);
        var page = await chromium.NewPageAsync(Address(app));
        await page.GotoAsync("/account/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { NameRegex = new Regex("^Overview") })).ToBeVisibleAsync();
        return page;
    }
}
