using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

/// <summary>A fresh server, each with its own database: nobody has signed in yet.</summary>
public sealed class FirstRunTests
{
    [Fact]
    public async Task The_first_person_creates_the_owner_account_and_workspace_then_setup_closes()
    {
        await using var app = new OpsmeterApp();
        await app.InitializeAsync();
        using var person = DashboardUser.For(app);

        var (signIn, _) = await person.GetAsync("/account/signin");
        Assert.Equal("/setup", signIn.Headers.Location?.OriginalString);

        var setup = await person.PostFormAsync("/setup", new()
        {
            ["Form.Email"] = "owner@example.test",
            ["Form.Password"] = "a long enough passphrase",
            ["Form.Workspace"] = "acme",
        });
        Assert.Equal(HttpStatusCode.Redirect, setup.StatusCode);
        var (overview, html) = await person.GetAsync("/Dashboard");
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        Assert.Contains("Overview · acme", html, StringComparison.Ordinal);
        // The instance's first account administers the instance (the job dashboard, the global catalog); later owners do not.
        Assert.Equal(HttpStatusCode.OK, (await person.GetAsync("/dashboard/jobs/recurring")).Response.StatusCode);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
            var acme = await db.Workspaces.Where(w => w.Name == "acme").Select(w => w.Id).SingleAsync();
            await CreateOwner.HandleAsync(scope.ServiceProvider.GetRequiredService<UserManager<OpsmeterUser>>(), db, TimeProvider.System,
                "second@example.test", "another long passphrase", acme);
            var people = await db.Users.OrderBy(u => u.Email).Select(u => new { u.Email, u.IsInstanceAdmin }).ToListAsync();
            Assert.Equal([("owner@example.test", true), ("second@example.test", false)], people.Select(p => (p.Email, p.IsInstanceAdmin)));
        }

        using var latecomer = DashboardUser.For(app);
        var (again, _) = await latecomer.GetAsync("/setup");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.StartsWith("/account/signin", again.Headers.Location?.OriginalString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Setup_explains_what_is_wrong_with_the_form()
    {
        await using var app = new OpsmeterApp();
        await app.InitializeAsync();
        using var person = DashboardUser.For(app);

        var response = await person.PostFormAsync("/setup", new() { ["Form.Email"] = "not-an-email", ["Form.Password"] = "short", ["Form.Workspace"] = "" });
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("field-validation-error", html, StringComparison.Ordinal);
        Assert.Contains("10 characters", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_bootstrap_settings_create_the_owner_and_five_wrong_passwords_lock_the_account()
    {
        await using var app = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:Bootstrap:AdminEmail"] = "boot@example.test",
            ["Opsmeter:Bootstrap:AdminPassword"] = "bootstrap passphrase",
        });
        await app.InitializeAsync();
        using var person = DashboardUser.For(app);

        for (var i = 0; i < 5; i++)
        {
            await person.PostFormAsync("/account/signin", new() { ["Form.Email"] = "boot@example.test", ["Form.Password"] = "wrong password" });
        }

        var locked = await person.PostFormAsync("/account/signin", new() { ["Form.Email"] = "boot@example.test", ["Form.Password"] = "bootstrap passphrase" });
        Assert.Contains("locked", await locked.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var fresh = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:Bootstrap:AdminEmail"] = "boot@example.test",
            ["Opsmeter:Bootstrap:AdminPassword"] = "bootstrap passphrase",
        });
        await fresh.InitializeAsync();
        using var owner = DashboardUser.For(fresh);
        var signedIn = await owner.PostFormAsync("/account/signin", new() { ["Form.Email"] = "boot@example.test", ["Form.Password"] = "bootstrap passphrase" });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var (overview, html) = await owner.GetAsync("/Dashboard");
        Assert.Contains("Overview · default", html, StringComparison.Ordinal);
    }
}
