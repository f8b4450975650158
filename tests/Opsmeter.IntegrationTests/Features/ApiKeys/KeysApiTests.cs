using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.ApiKeys;

/// <summary><c>/v1/keys</c> (docs/api.md "Keys"): a workspace's keys listed, created with the caller's scopes at most, revoked at once, audited.</summary>
[Collection(SharedApp.Name)]
public sealed class KeysApiTests(OpsmeterApp app)
{
    private const string AnEvent = """{"provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}""";

    private static async Task<JsonElement> CreateKeyAsync(TestWorkspace ws, string name, params string[] scopes)
    {
        var response = await ws.Client.PostAsJsonAsync("/v1/keys", new { name, scopes });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private HttpClient ClientWith(string key)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        return client;
    }

    private static async Task<JsonElement> ListAsync(TestWorkspace ws) => await ws.Client.GetFromJsonAsync<JsonElement>("/v1/keys");

    private static JsonElement Listed(JsonElement list, string prefix) =>
        Assert.Single(list.EnumerateArray(), k => k.GetProperty("prefix").GetString() == prefix);

    /// <summary>Asserts an RFC 9457 answer of <paramref name="status"/> and returns it (the body can be read once).</summary>
    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    [Fact]
    public async Task The_list_shows_the_workspaces_own_keys_with_their_fields_and_never_a_secret()
    {
        var mine = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var created = await CreateKeyAsync(mine, "support-bot production", ApiKeyScopes.Ingest, ApiKeyScopes.Read);
        var theirs = await CreateKeyAsync(other, "their bot", ApiKeyScopes.Ingest);

        var response = await mine.Client.GetAsync("/v1/keys");
        var text = await response.Content.ReadAsStringAsync();
        var list = JsonDocument.Parse(text).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([mine.Key[..11], created.GetProperty("prefix").GetString()], list.EnumerateArray().Select(k => k.GetProperty("prefix").GetString()));
        var row = list[1];
        Assert.Equal(["id", "name", "prefix", "scopes", "createdAt", "lastUsedAt", "revokedAt"], row.EnumerateObject().Select(p => p.Name));
        Assert.Equal(created.GetProperty("id").GetString(), row.GetProperty("id").GetString());
        Assert.Equal("support-bot production", row.GetProperty("name").GetString());
        Assert.Equal(["ingest", "read"], row.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (row.GetProperty("lastUsedAt").ValueKind, row.GetProperty("revokedAt").ValueKind));
        Assert.True(DateTimeOffset.UtcNow - row.GetProperty("createdAt").GetDateTimeOffset() < TimeSpan.FromMinutes(5));
        // Neither secret, nor any hash, nor anything of the other workspace.
        Assert.DoesNotContain(created.GetProperty("key").GetString()!, text, StringComparison.Ordinal);
        Assert.DoesNotContain(mine.Key, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKeySecrets.Hash(mine.Key), text, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs.GetProperty("prefix").GetString()!, text, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs.GetProperty("id").GetString()!, text, StringComparison.Ordinal);
        Assert.DoesNotContain(other.Key[..11], text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_created_key_is_shown_once_stored_as_a_hash_and_works_for_its_scopes_only()
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/keys", Json("""{"name":"  ingester  ","scopes":["ingest","ingest"]}"""));
        var ingest = await response.Content.ReadFromJsonAsync<JsonElement>();
        var reader = await CreateKeyAsync(ws, "dashboards", ApiKeyScopes.Read);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(["id", "name", "prefix", "scopes", "key"], ingest.EnumerateObject().Select(p => p.Name));
        Assert.Equal($"/v1/keys/{ingest.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
        Assert.Equal("ingester", ingest.GetProperty("name").GetString());
        Assert.Equal(["ingest"], ingest.GetProperty("scopes").EnumerateArray().Select(s => s.GetString())); // duplicates collapsed
        var key = ingest.GetProperty("key").GetString()!;
        Assert.Matches("^om_[a-z0-9]{8}_[A-Za-z0-9]{32}$", key);
        var prefix = key[..11];
        var stored = await app.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.WorkspaceId == ws.Id && k.Prefix == prefix));
        Assert.Equal((ApiKeySecrets.Hash(key), ws.Id, prefix), (stored.KeyHash, stored.WorkspaceId, ingest.GetProperty("prefix").GetString()));

        using var ingester = ClientWith(key);
        using var dashboards = ClientWith(reader.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await ingester.PostAsync("/v1/ingest", Json(AnEvent))).StatusCode);
        await AssertProblemAsync(await ingester.GetAsync("/v1/metrics"), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await ingester.GetAsync("/v1/keys"), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await dashboards.PostAsync("/v1/ingest", Json(AnEvent)), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await dashboards.GetAsync("/v1/metrics")).StatusCode);
        Assert.DoesNotContain(key, await ws.Client.GetStringAsync("/v1/keys"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_from_the_next_request_and_listed_with_its_revocation()
    {
        var ws = await app.CreateWorkspaceAsync();
        var created = await CreateKeyAsync(ws, "to revoke", ApiKeyScopes.Ingest);
        var id = created.GetProperty("id").GetString();
        using var client = ClientWith(created.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/ingest", Json(AnEvent))).StatusCode); // now in the key cache

        var revoked = await ws.Client.DeleteAsync($"/v1/keys/{id}");
        var afterwards = await client.PostAsync("/v1/ingest", Json(AnEvent));
        var again = await ws.Client.DeleteAsync($"/v1/keys/{id}");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await AssertProblemAsync(afterwards, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode); // already revoked: nothing changes
        var row = Listed(await ListAsync(ws), created.GetProperty("prefix").GetString()!);
        Assert.True(DateTimeOffset.UtcNow - row.GetProperty("revokedAt").GetDateTimeOffset() < TimeSpan.FromMinutes(5));
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.WorkspaceId == ws.Id && a.Action == AuditActions.KeyRevoked)));
    }

    [Fact]
    public async Task A_key_may_revoke_itself_and_its_next_request_is_refused()
    {
        var ws = await app.CreateWorkspaceAsync();
        var ownId = Listed(await ListAsync(ws), ws.Key[..11]).GetProperty("id").GetString();

        var revoked = await ws.Client.DeleteAsync($"/v1/keys/{ownId}");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await AssertProblemAsync(await ws.Client.GetAsync("/v1/keys"), HttpStatusCode.Unauthorized);
        var audit = await app.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.WorkspaceId == ws.Id && a.Action == AuditActions.KeyRevoked));
        Assert.Equal(("key " + ws.Key[..11], $"test ({ws.Key[..11]})"), (audit.Actor, audit.Target));
    }

    [Fact]
    public async Task Another_workspaces_key_or_an_unknown_id_is_not_found_and_that_key_keeps_working()
    {
        var mine = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var theirs = await CreateKeyAsync(other, "theirs", ApiKeyScopes.Ingest);

        await AssertProblemAsync(await mine.Client.DeleteAsync($"/v1/keys/{theirs.GetProperty("id").GetString()}"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await mine.Client.DeleteAsync($"/v1/keys/{Guid.CreateVersion7()}"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await mine.Client.DeleteAsync("/v1/keys/not-a-guid"), HttpStatusCode.NotFound);

        using var client = ClientWith(theirs.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/ingest", Json(AnEvent))).StatusCode);
        Assert.Equal(JsonValueKind.Null, Listed(await ListAsync(other), theirs.GetProperty("prefix").GetString()!).GetProperty("revokedAt").ValueKind);
        Assert.False(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == AuditActions.KeyRevoked
            && (a.WorkspaceId == mine.Id || a.WorkspaceId == other.Id))));
    }

    [Fact]
    public async Task A_key_without_admin_is_refused_on_all_three_routes_and_no_key_is_unauthorized()
    {
        var ws = await app.CreateWorkspaceAsync(ApiKeyScopes.Ingest, ApiKeyScopes.Read);
        var ownId = await app.WithDbAsync(db => db.ApiKeys.Where(k => k.WorkspaceId == ws.Id).Select(k => k.Id).SingleAsync());
        using var anonymous = app.CreateClient();

        await AssertProblemAsync(await ws.Client.GetAsync("/v1/keys"), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await ws.Client.PostAsJsonAsync("/v1/keys", new { name = "x", scopes = new[] { "ingest" } }), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await ws.Client.DeleteAsync($"/v1/keys/{ownId}"), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await anonymous.GetAsync("/v1/keys"), HttpStatusCode.Unauthorized);

        Assert.Equal(1, await app.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.WorkspaceId == ws.Id && k.RevokedAt == null)));
    }

    [Fact]
    public async Task A_key_cannot_create_a_key_with_a_scope_it_does_not_hold()
    {
        var ws = await app.CreateWorkspaceAsync(ApiKeyScopes.Admin);

        var ingest = await ws.Client.PostAsJsonAsync("/v1/keys", new { name = "escalation", scopes = new[] { "ingest" } });
        var readAndAdmin = await ws.Client.PostAsJsonAsync("/v1/keys", new { name = "escalation", scopes = new[] { "admin", "read", "ingest" } });

        await AssertProblemAsync(ingest, HttpStatusCode.Forbidden);
        var problem = await AssertProblemAsync(readAndAdmin, HttpStatusCode.Forbidden);
        Assert.Contains("read, ingest", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(["read", "ingest"], problem.GetProperty("missingScopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(1, await app.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.WorkspaceId == ws.Id)));
        Assert.False(await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.WorkspaceId == ws.Id && a.Actor != "test")));

        var admin = await CreateKeyAsync(ws, "another admin", ApiKeyScopes.Admin); // its own scopes it may grant
        Assert.Equal(["admin"], admin.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Theory]
    [InlineData("{", "")]
    [InlineData("", "")]
    [InlineData("[]", "")]
    [InlineData("{}", "name")]
    [InlineData("""{"scopes":["ingest"]}""", "name")]
    [InlineData("""{"name":"   ","scopes":["ingest"]}""", "name")]
    [InlineData("""{"name":12,"scopes":["ingest"]}""", "name")]
    [InlineData("""{"name":"x"}""", "scopes")]
    [InlineData("""{"name":"x","scopes":[]}""", "scopes")]
    [InlineData("""{"name":"x","scopes":["ingest","root"]}""", "scopes")]
    [InlineData("""{"name":"x","scopes":["Ingest"]}""", "scopes")]
    [InlineData("""{"name":"x","scopes":[null]}""", "scopes")]
    [InlineData("""{"name":"x","scopes":"ingest"}""", "scopes")]
    public async Task A_bad_body_is_a_400_naming_the_field_and_creates_nothing(string body, string field)
    {
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/keys", Json(body));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        if (body.Length > 0)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }

        Assert.Equal(1, await app.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task A_name_of_more_than_128_characters_is_refused()
    {
        var ws = await app.CreateWorkspaceAsync();

        var longest = await ws.Client.PostAsJsonAsync("/v1/keys", new { name = new string('n', 128), scopes = new[] { "read" } });
        var tooLong = await ws.Client.PostAsJsonAsync("/v1/keys", new { name = new string('n', 129), scopes = new[] { "read" } });

        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);
        var problem = await AssertProblemAsync(tooLong, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _), problem.ToString());
    }

    [Fact]
    public async Task Creating_and_revoking_are_audited_under_the_calling_keys_prefix()
    {
        var ws = await app.CreateWorkspaceAsync();
        var created = await CreateKeyAsync(ws, "ci deploys", ApiKeyScopes.Ingest, ApiKeyScopes.Read);
        Assert.Equal(HttpStatusCode.NoContent, (await ws.Client.DeleteAsync($"/v1/keys/{created.GetProperty("id").GetString()}")).StatusCode);

        var entries = await app.WithDbAsync(db => db.AuditLog.Where(a => a.WorkspaceId == ws.Id && a.Actor != "test").OrderBy(a => a.Id).ToListAsync());

        var target = $"ci deploys ({created.GetProperty("prefix").GetString()})";
        Assert.Collection(entries,
            e => Assert.Equal((AuditActions.KeyCreated, "key " + ws.Key[..11], target, null, "ingest, read"), (e.Action, e.Actor, e.Target, e.Before, e.After)),
            e => Assert.Equal((AuditActions.KeyRevoked, "key " + ws.Key[..11], target, "ingest, read", null), (e.Action, e.Actor, e.Target, e.Before, e.After)));
        Assert.DoesNotContain(entries, e => (e.Before + e.After + e.Target).Contains(created.GetProperty("key").GetString()!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_list_shows_when_a_key_was_last_used_once_use_is_written()
    {
        var ws = await app.CreateWorkspaceAsync();
        var used = await CreateKeyAsync(ws, "used", ApiKeyScopes.Ingest);
        var unused = await CreateKeyAsync(ws, "unused", ApiKeyScopes.Ingest);
        using var client = ClientWith(used.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/ingest", Json(AnEvent))).StatusCode);

        await app.Services.GetRequiredService<ApiKeyUsage>().FlushAsync(CancellationToken.None);
        var list = await ListAsync(ws);

        var lastUsed = Listed(list, used.GetProperty("prefix").GetString()!).GetProperty("lastUsedAt").GetDateTimeOffset();
        Assert.True(DateTimeOffset.UtcNow - lastUsed < TimeSpan.FromMinutes(5), lastUsed.ToString("O"));
        Assert.Equal(JsonValueKind.Null, Listed(list, unused.GetProperty("prefix").GetString()!).GetProperty("lastUsedAt").ValueKind);
        // The listing key itself was used by the calls above (recorded now, written at the next flush).
        Assert.Equal(JsonValueKind.String, Listed(list, ws.Key[..11]).GetProperty("lastUsedAt").ValueKind);
    }

    [Fact]
    public async Task The_dashboard_audits_key_creation_and_revocation_under_the_person()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (email, password) = await DashboardUser.CreatePersonAsync(app, ws.Id);
        using var owner = DashboardUser.For(app);
        await owner.PostFormAsync("/account/signin", new() { ["Form.Email"] = email, ["Form.Password"] = password });

        await owner.PostFormAsync("/Dashboard/Keys?handler=Create",
            new() { ["Form.Name"] = "support bot", ["Form.Scopes"] = "ingest" }, formPage: "/Dashboard/Keys");
        var key = await app.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.WorkspaceId == ws.Id && k.Name == "support bot"));
        var revoked = await owner.PostFormAsync($"/Dashboard/Keys?handler=Revoke&id={key.Id}", [], formPage: "/Dashboard/Keys");
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);

        var entries = await app.WithDbAsync(db => db.AuditLog.Where(a => a.WorkspaceId == ws.Id && a.Target == $"support bot ({key.Prefix})")
            .OrderBy(a => a.Id).ToListAsync());
        Assert.Equal([(AuditActions.KeyCreated, email), (AuditActions.KeyRevoked, email)], entries.Select(e => (e.Action, e.Actor)));
        Assert.Equal("ingest", entries[0].After);
    }
}
