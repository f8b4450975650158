using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Members;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed class DashboardTests(OpsmeterApp app)
{
    private static string Event(string id, string endpoint, int input, int output, string status = "success") =>
        new TestEvent { ExternalRequestId = id, EndpointTag = endpoint, InputTokens = input, OutputTokens = output, LatencyMs = 100, Status = status }.Json();

    [Fact]
    public async Task Anonymous_visitors_are_sent_to_sign_in()
    {
        using var visitor = DashboardUser.For(app);

        var (response, _) = await visitor.GetAsync("/Dashboard");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/signin", response.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_overview_shows_the_workspace_figures()
    {
        var ws = await app.CreateWorkspaceAsync();
        // gpt-4o-mini $0.15/$0.60: 1000 in + 200 out = 0.00027; 2000 in + 400 out = 0.00054
        await ws.Client.PostAsync("/v1/ingest", Json(Event("o1", "support.reply", 1000, 200)));
        await ws.Client.PostAsync("/v1/ingest", Json(Event("o2", "search", 2000, 400, status: "error")));
        using var person = await DashboardUser.SignedInAsync(app, ws.Id);

        var (response, html) = await person.GetAsync("/Dashboard");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-figure=\"spend\">$0.000810<", html, StringComparison.Ordinal);
        Assert.Contains("data-figure=\"requests\">2<", html, StringComparison.Ordinal);
        Assert.Contains("support.reply", html, StringComparison.Ordinal);
        Assert.Contains("50.0%", html, StringComparison.Ordinal); // error rate
    }

    [Fact]
    public async Task An_empty_workspace_explains_how_to_send_the_first_event()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var person = await DashboardUser.SignedInAsync(app, ws.Id);

        var (_, html) = await person.GetAsync("/Dashboard");

        Assert.Contains("No events yet", html, StringComparison.Ordinal);
        Assert.Contains("/v1/ingest", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workspace_never_sees_another_ones_data()
    {
        var mine = await app.CreateWorkspaceAsync();
        var theirs = await app.CreateWorkspaceAsync();
        await theirs.Client.PostAsync("/v1/ingest", Json(Event("secret-1", "their.secret.endpoint", 1000, 10)));
        using var person = await DashboardUser.SignedInAsync(app, mine.Id);

        var switched = await person.PostFormAsync("/Dashboard/Workspace", new() { ["id"] = theirs.Id.ToString() }, formPage: "/Dashboard");
        var (_, html) = await person.GetAsync("/Dashboard");

        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        Assert.DoesNotContain("their.secret.endpoint", html, StringComparison.Ordinal);
        Assert.Contains("No events yet", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_cannot_manage_keys()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);

        var (response, _) = await member.GetAsync("/Dashboard/Keys");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/denied", response.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_owner_creates_a_key_shown_once_and_a_revoked_key_is_refused_at_once()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var created = await owner.PostFormAsync("/Dashboard/Keys?handler=Create",
            new() { ["Form.Name"] = "support bot", ["Form.Scopes"] = "ingest" }, formPage: "/Dashboard/Keys");
        var html = await created.Content.ReadAsStringAsync();
        var key = System.Text.RegularExpressions.Regex.Match(html, "id=\"new-key\">(om_[^<]+)<").Groups[1].Value;
        Assert.StartsWith("om_", key, StringComparison.Ordinal);
        var (_, later) = await owner.GetAsync("/Dashboard/Keys");
        Assert.DoesNotContain(key, later, StringComparison.Ordinal);
        Assert.Contains(key[..11], later, StringComparison.Ordinal);

        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/ingest", Json(Event("k1", "x", 1, 1)))).StatusCode);

        var keyId = System.Text.RegularExpressions.Regex.Match(later, $"data-prefix=\"{key[..11]}\"[^$]*?\\?id=([0-9a-f-]+)").Groups[1].Value;
        var revoked = await owner.PostFormAsync($"/Dashboard/Keys?handler=Revoke&id={keyId}", [], formPage: "/Dashboard/Keys");
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        var (_, after) = await owner.GetAsync("/Dashboard/Keys");
        Assert.Matches($"data-prefix=\"{key[..11]}\">[^$]*?revoked", after);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/v1/ingest", Json(Event("k2", "x", 1, 1)))).StatusCode);
    }

    [Fact]
    public async Task The_keys_page_shows_when_each_key_was_last_used()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        var (_, before) = await owner.GetAsync("/Dashboard/Keys");

        await ws.Client.PostAsync("/v1/ingest", Json(Event("used-1", "x", 1, 1)));
        await app.Services.GetRequiredService<ApiKeyUsage>().FlushAsync(CancellationToken.None);
        var (_, after) = await owner.GetAsync("/Dashboard/Keys");

        Assert.Contains("<td data-last-used>never</td>", before, StringComparison.Ordinal);
        Assert.Matches("<td data-last-used>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}</td>", after);
    }

    [Fact]
    public async Task Metrics_serve_the_same_figures_by_dimension()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", Json(Event("m1", "support.reply", 1000, 200)));
        await ws.Client.PostAsync("/v1/ingest", Json(Event("m2", "support.reply", 1000, 200)));
        await ws.Client.PostAsync("/v1/ingest", Json(Event("m3", "search", 2000, 400)));

        var metrics = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/metrics?groupBy=endpointTag");
        var invalid = await ws.Client.GetAsync("/v1/metrics?groupBy=color&from=yesterday");

        var rows = metrics.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(("search", 0.00054m), (rows[0].GetProperty("key").GetString(), rows[0].GetProperty("costUsd").GetDecimal()));
        Assert.Equal(("support.reply", 2L), (rows[1].GetProperty("key").GetString(), rows[1].GetProperty("requests").GetInt64()));
        Assert.Equal(0.00108m, metrics.GetProperty("totals").GetProperty("costUsd").GetDecimal());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("groupBy", out _) && errors.TryGetProperty("from", out _), errors.ToString());
    }

    [Fact]
    public async Task Metrics_need_the_read_scope()
    {
        var ingestOnly = await app.CreateWorkspaceAsync("ingest");

        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.Client.GetAsync("/v1/metrics")).StatusCode);
    }
}
