using System.Net;

namespace Opsmeter.IntegrationTests.Infrastructure.Hosting;

/// <summary>What a browser is told about every response: no sniffing, no framing, and on the pages a strict script policy.</summary>
[Collection(SharedApp.Name)]
public sealed class SecurityHeadersTests(OpsmeterApp app)
{
    private const string StrictPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

    [Fact]
    public async Task A_dashboard_page_has_the_strict_policy_and_no_inline_script_or_style()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var person = await DashboardUser.SignedInAsync(app, ws.Id);

        foreach (var path in new[] { "/Dashboard", "/Dashboard/Budgets", "/Dashboard/Members", "/Dashboard/Settings", "/account" })
        {
            var (page, html) = await person.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            AssertCommonHeaders(page);
            Assert.Equal(StrictPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" onsubmit=", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" onchange=", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(" onclick=", html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task An_api_response_and_an_error_carry_the_headers()
    {
        var ws = await app.CreateWorkspaceAsync();
        var ok = await ws.Client.GetAsync("/v1/metrics");
        AssertCommonHeaders(ok);
        Assert.True(ok.Headers.Contains("Content-Security-Policy"));

        using var anonymous = app.CreateClient();
        var missing = await anonymous.GetAsync("/v1/no-such-route");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        AssertCommonHeaders(missing);
    }

    [Fact]
    public async Task Swagger_ui_keeps_the_common_headers_but_no_script_policy_it_cannot_meet()
    {
        using var client = app.CreateClient();
        var ui = await client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        AssertCommonHeaders(ui);
        Assert.False(ui.Headers.Contains("Content-Security-Policy"));
    }

    private static void AssertCommonHeaders(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("camera=()", response.Headers.GetValues("Permissions-Policy").Single(), StringComparison.Ordinal);
    }
}
