using System.Net;

namespace Opsmeter.IntegrationTests.Infrastructure.Hosting;

/// <summary>
/// Behind a TLS proxy the app learns the request was HTTPS from X-Forwarded-Proto, and then marks its cookies Secure;
/// anyone else claiming so is not believed. The test client connects from 127.0.0.1: the default (loopback is the proxy)
/// believes it, an app told its proxy is elsewhere does not.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Fact]
    public async Task A_known_proxy_saying_https_makes_cookies_secure()
    {
        await using var app = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["environment"] = "Production",
        });
        await app.InitializeAsync();

        var signIn = await SignInPageAsync(app, "https", host: "opsmeter.example");

        Assert.Contains(AntiforgeryCookie(signIn), c => c.Contains("; secure", StringComparison.OrdinalIgnoreCase));
        Assert.StartsWith("max-age=", signIn.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
        var plain = await SignInPageAsync(app, forwardedProto: null);
        Assert.DoesNotContain(AntiforgeryCookie(plain), c => c.Contains("; secure", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_client_that_is_not_a_known_proxy_is_not_believed()
    {
        await using var app = new OpsmeterApp(new Dictionary<string, string>
        {
            ["Opsmeter:ForwardedHeaders:KnownProxies:0"] = "192.0.2.10",
            ["environment"] = "Production",
        });
        await app.InitializeAsync();

        var signIn = await SignInPageAsync(app, "https", host: "opsmeter.example");

        Assert.DoesNotContain(AntiforgeryCookie(signIn), c => c.Contains("; secure", StringComparison.OrdinalIgnoreCase));
        Assert.False(signIn.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Https_only_makes_the_sign_in_cookie_secure_even_on_a_plain_request()
    {
        await using var app = new OpsmeterApp(new Dictionary<string, string> { ["Opsmeter:HttpsOnly"] = "true" });
        await app.InitializeAsync();
        var ws = await app.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var person = DashboardUser.For(app);

        var signedIn = await person.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = password });

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("opsmeter=", StringComparison.Ordinal));
        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<HttpResponseMessage> SignInPageAsync(OpsmeterApp app, string? forwardedProto, string? host = null)
    {
        // An account exists, so the sign-in page is shown instead of the first-run setup.
        var ws = await app.CreateWorkspaceAsync();
        await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var probe = app.CreateClient();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = probe.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/signin");
        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        }

        if (host is not null)
        {
            request.Headers.Host = host;
        }

        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    private static string[] AntiforgeryCookie(HttpResponseMessage response)
    {
        var cookies = response.Headers.GetValues("Set-Cookie").Where(c => c.StartsWith(".AspNetCore.Antiforgery.", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(cookies);
        return cookies;
    }
}
