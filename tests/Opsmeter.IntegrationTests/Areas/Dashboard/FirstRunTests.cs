using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

/// <summary>A fresh server, each with its own database: nobody has signed in yet.</summary>
public sealed partial class FirstRunTests
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

    [Fact]
    public async Task From_another_machine_setup_asks_for_the_token_that_the_log_and_the_cli_show()
    {
        var database = await TestDatabase.CreateDatabaseAsync("setuptoken");
        var environment = new Dictionary<string, string?> { ["ConnectionStrings__Opsmeter"] = database };
        var (server, address) = await OpsmeterProcess.StartAsync(environment);
        await using var _ = server;
        var logged = SetupTokenInLog().Match(server.Output);
        Assert.True(logged.Success, server.Output);
        var (exitCode, stdout, stderr) = await OpsmeterProcess.RunAsync(environment, "setup-token");
        Assert.True(exitCode == 0, stderr);
        Assert.Equal(logged.Groups[1].Value, stdout.Trim());

        // A proxy's X-Forwarded-For is what a request from elsewhere looks like to a server behind one.
        using var stranger = Person(address, forwardedFor: "203.0.113.9");
        var (page, html) = await stranger.GetAsync("/setup");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Setup token", html, StringComparison.Ordinal);
        foreach (var guess in new[] { "", "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA" })
        {
            var refused = await stranger.PostFormAsync("/setup", Claim("stranger@example.test", "stranger-ws", guess));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("not this server&#x27;s setup token", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM users"));
        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM workspaces"));

        // The token as a person types it: lower case, without the dashes.
        using var operatorPerson = Person(address, forwardedFor: "203.0.113.10");
        var claimed = await operatorPerson.PostFormAsync("/setup",
            Claim("operator@example.test", "acme", logged.Groups[1].Value.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant()));
        Assert.Equal(HttpStatusCode.Redirect, claimed.StatusCode);
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM users WHERE is_instance_admin"));
        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM instance_settings WHERE key = 'setup_token'"));
        Assert.Equal(2, await CountAsync(database, "SELECT count(*) FROM audit_log WHERE workspace_id IS NULL AND actor = 'operator@example.test'"));

        var after = await OpsmeterProcess.RunAsync(environment, "setup-token");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("already set up", after.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_claims_make_exactly_one_owner()
    {
        await using var app = new OpsmeterApp();
        await app.InitializeAsync();
        var people = Enumerable.Range(0, 12).Select(_ => DashboardUser.For(app)).ToList();
        // Every form is fetched first (its antiforgery token), then all are posted at once.
        var forms = new List<(DashboardUser Person, HttpContent Body)>();
        foreach (var (person, i) in people.Select((p, i) => (p, i)))
        {
            var (_, html) = await person.GetAsync("/setup");
            var fields = Claim($"racer{i}@example.test", $"racer-{i}", null);
            fields["__RequestVerificationToken"] = System.Net.WebUtility.HtmlDecode(AntiforgeryField().Match(html).Groups[1].Value);
            forms.Add((person, new FormUrlEncodedContent(fields)));
        }

        var responses = await Task.WhenAll(forms.Select(f => f.Person.Client.PostAsync("/setup", f.Body)));

        Assert.Single(responses, r => r.Headers.Location?.OriginalString.StartsWith("/Dashboard", StringComparison.OrdinalIgnoreCase) == true);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Redirect, r.StatusCode));
        var (users, members, workspaces) = await app.WithDbAsync(async db =>
            (await db.Users.CountAsync(), await db.WorkspaceMembers.CountAsync(), await db.Workspaces.CountAsync()));
        Assert.Equal((1, 1, 1), (users, members, workspaces));
        people.ForEach(p => p.Dispose());
    }

    [Fact]
    public async Task Setup_never_adopts_a_workspace_that_already_exists()
    {
        // The bootstrap key makes "default" and may already have filled it with events: setup must not hand it to whoever comes first.
        const string Key = "om_bootstrap_0123456789abcdefghijkl";
        await using var app = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:Bootstrap:ApiKey"] = Key });
        await app.InitializeAsync();
        using var person = DashboardUser.For(app);

        foreach (var name in new[] { "default", "DEFAULT" })
        {
            var refused = await person.PostFormAsync("/setup", Claim("first@example.test", name, null));
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("A workspace named &quot;default&quot; exists", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await app.WithDbAsync(db => db.Users.CountAsync()));
        var claimed = await person.PostFormAsync("/setup", Claim("first@example.test", "mine", null));
        Assert.Equal(HttpStatusCode.Redirect, claimed.StatusCode);
        var memberships = await app.WithDbAsync(db => db.WorkspaceMembers
            .Join(db.Workspaces, m => m.WorkspaceId, w => w.Id, (m, w) => w.Name).ToListAsync());
        Assert.Equal(["mine"], memberships);
        // What the bootstrap settings made is in the audit log too, by "system".
        var made = await app.WithDbAsync(db => db.AuditLog.Where(a => a.Actor == "system (bootstrap settings)").OrderBy(a => a.Id)
            .Select(a => a.Action).ToListAsync());
        Assert.Equal(["workspace.created", "key.created"], made);
    }

    [Fact]
    public async Task A_server_started_with_nothing_configured_has_no_workspace_until_it_is_claimed()
    {
        // docker-compose.yml passes an unset OPSMETER_BOOTSTRAP_API_KEY as an empty value: that is "no key", not a bad one.
        await using var app = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:Bootstrap:ApiKey"] = "" });
        await app.InitializeAsync();

        Assert.Equal(0, await app.WithDbAsync(db => db.Workspaces.CountAsync()));
        Assert.NotNull(await app.WithDbAsync(db => db.InstanceSettings.SingleOrDefaultAsync(s => s.Key == "setup_token")));
    }

    private static Dictionary<string, string> Claim(string email, string workspace, string? token)
    {
        var fields = new Dictionary<string, string>
        {
            ["Form.Email"] = email,
            ["Form.Password"] = "a long enough passphrase",
            ["Form.Workspace"] = workspace,
        };
        if (token is not null)
        {
            fields["Form.Token"] = token;
        }

        return fields;
    }

    private static DashboardUser Person(Uri address, string forwardedFor)
    {
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() };
        var client = new HttpClient(handler) { BaseAddress = address };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return new DashboardUser(client);
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [GeneratedRegex("setup token: \"?([0-9A-Z]{5}(?:-[0-9A-Z]{5}){4})")]
    private static partial Regex SetupTokenInLog();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
