using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>A person at the dashboard without a browser: cookies kept, redirects visible, forms posted with their antiforgery token.</summary>
internal sealed partial class DashboardUser(HttpClient client) : IDisposable
{
    public HttpClient Client { get; } = client;

    /// <summary>Who signed in (by <see cref="SignedInAsync"/>): what the audit log names as the actor of their changes.</summary>
    public string? Email { get; private set; }

    public static DashboardUser For(OpsmeterApp app)
    {
        // A plain client against the Kestrel address (the factory's client options are not applied in Kestrel mode).
        using var probe = app.CreateClient();
        var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() };
        return new(new HttpClient(handler) { BaseAddress = probe.BaseAddress });
    }

    /// <summary>Creates a person with <paramref name="role"/> in <paramref name="workspaceId"/> and signs them in through the form.</summary>
    public static async Task<DashboardUser> SignedInAsync(OpsmeterApp app, Guid workspaceId, string role = WorkspaceRoles.Owner,
        bool instanceAdmin = false)
    {
        var (email, password) = await CreatePersonAsync(app, workspaceId, role, instanceAdmin);
        return await SignInAsync(app, email, password);
    }

    /// <summary>A new session of an existing account, signed in through the form.</summary>
    public static async Task<DashboardUser> SignInAsync(OpsmeterApp app, string email, string password)
    {
        var user = For(app);
        user.Email = email;
        var response = await user.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return user;
    }

    /// <summary>
    /// A new account with <paramref name="role"/> in <paramref name="workspaceId"/>; returns its credentials. An instance
    /// administrator only when asked, whichever account of the shared test database happens to be first.
    /// </summary>
    public static async Task<(string Email, string Password)> CreatePersonAsync(OpsmeterApp app, Guid workspaceId, string role = WorkspaceRoles.Owner,
        bool instanceAdmin = false)
    {
        var email = $"{Guid.NewGuid():N}@example.test";
        const string Password = "correct horse battery";
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<OpsmeterUser>>();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var created = await CreateOwner.HandleAsync(users, db, TimeProvider.System, email, Password, workspaceId);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
        var userId = (await users.FindByEmailAsync(email))!.Id;
        await db.WorkspaceMembers.Where(m => m.WorkspaceId == workspaceId && m.UserId == userId)
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.Role, role));
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(u => u.SetProperty(x => x.IsInstanceAdmin, instanceAdmin));
        return (email, Password);
    }

    public async Task<(HttpResponseMessage Response, string Html)> GetAsync(string path)
    {
        var response = await Client.GetAsync(path);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>GETs the form's page for its antiforgery token, then POSTs the fields to <paramref name="action"/>.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string action, Dictionary<string, string> fields, string? formPage = null) =>
        await (await PrepareFormAsync(action, fields, formPage))();

    /// <summary>
    /// GETs the form's page for its antiforgery token now; the returned function POSTs the fields later (so that posts of
    /// several people can be sent at the same moment).
    /// </summary>
    public async Task<Func<Task<HttpResponseMessage>>> PrepareFormAsync(string action, Dictionary<string, string> fields, string? formPage = null)
    {
        var (_, html) = await GetAsync(formPage ?? action.Split('?')[0]);
        var token = Token().Match(html);
        Assert.True(token.Success, $"no antiforgery token on {formPage ?? action}");
        fields["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value);
        // Dashboard forms carry the workspace the page showed; a test that sets one itself (a stale form) keeps its own.
        if (WorkspaceField().Match(html) is { Success: true } workspace)
        {
            fields.TryAdd("workspaceId", workspace.Groups[1].Value);
        }

        return () => Client.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    /// <summary>Invites <paramref name="email"/> on the Members page; returns the path of the link the page shows once (/invite/…).</summary>
    public async Task<string> InviteAsync(string email, string role = WorkspaceRoles.Member)
    {
        var response = await PostFormAsync("/Dashboard/Members?handler=Invite", new() { ["Form.Email"] = email, ["Form.Role"] = role },
            formPage: "/Dashboard/Members");
        var html = await response.Content.ReadAsStringAsync();
        var link = InviteLink().Match(html);
        Assert.True(link.Success, $"no invitation link on the page ({response.StatusCode})");
        return new Uri(WebUtility.HtmlDecode(link.Groups[1].Value)).PathAndQuery;
    }

    /// <summary>As the holder of an invitation link with no account yet: sets the account's password and joins.</summary>
    public Task<HttpResponseMessage> CreateAccountAsync(string link, string password) =>
        PostFormAsync(link + "?handler=Create", new() { ["Form.Password"] = password, ["Form.ConfirmPassword"] = password }, formPage: link);

    public void Dispose() => Client.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    [GeneratedRegex("name=\"workspaceId\" value=\"([^\"]+)\"")]
    private static partial Regex WorkspaceField();

    [GeneratedRegex("id=\"invite-link\">([^<]+)<")]
    private static partial Regex InviteLink();
}
