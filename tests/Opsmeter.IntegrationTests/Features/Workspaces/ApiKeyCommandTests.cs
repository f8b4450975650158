using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;

namespace Opsmeter.IntegrationTests.Features.Workspaces;

[Collection(SharedApp.Name)]
public sealed class ApiKeyCommandTests(OpsmeterApp app)
{
    [Fact]
    public async Task Apikey_create_prints_a_working_key_once_and_stores_only_its_hash()
    {
        var workspace = await app.CreateWorkspaceAsync();
        var (exitCode, stdout, stderr) = await OpsmeterProcess.RunAsync(
            new Dictionary<string, string?> { ["ConnectionStrings__Opsmeter"] = app.ConnectionString },
            "apikey", "create", "--workspace", workspace.Id.ToString(), "--scopes", "ingest,read");

        Assert.True(exitCode == 0, stderr);
        var key = stdout.Trim();
        Assert.StartsWith("om_", key, StringComparison.Ordinal);
        Assert.Contains(key[..11], stderr, StringComparison.Ordinal); // the prefix is shown, for lists and logs
        Assert.DoesNotContain(key, stderr, StringComparison.Ordinal);

        var prefix = key[..11];
        var stored = await app.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.Prefix == prefix));
        Assert.NotEqual(key, stored.KeyHash);
        Assert.Equal(["ingest", "read"], stored.Scopes);

        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        var response = await client.PostAsync("/v1/ingest", HttpExtensions.Json(
            """{"provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args) =>
        OpsmeterProcess.RunAsync(new Dictionary<string, string?> { ["ConnectionStrings__Opsmeter"] = app.ConnectionString }, args);

    [Fact]
    public async Task Apikey_create_is_audited_under_the_operating_system_user()
    {
        var ws = await app.CreateWorkspaceAsync();

        var (exitCode, stdout, stderr) = await RunAsync("apikey", "create", "--workspace", ws.Id.ToString(), "--scopes", "read,admin", "--name", "ops");

        Assert.True(exitCode == 0, stderr);
        var prefix = stdout.Trim()[..11];
        var entry = await app.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.WorkspaceId == ws.Id && a.Action == AuditActions.KeyCreated && a.Actor != "test"));
        Assert.Equal(("cli:" + Environment.UserName, $"ops ({prefix})", "read, admin"), (entry.Actor, entry.Target, entry.After));
    }

    [Fact]
    public async Task Apikey_list_prints_the_workspaces_keys_as_a_table_without_secrets()
    {
        var ws = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var workspaceName = await app.WithDbAsync(db => db.Workspaces.Where(w => w.Id == ws.Id).Select(w => w.Name).SingleAsync());
        var (_, created, _) = await RunAsync("apikey", "create", "--workspace", workspaceName, "--scopes", "ingest,read", "--name", "support bot");
        var (_, gone, _) = await RunAsync("apikey", "create", "--workspace", workspaceName, "--name", "old");
        await RunAsync("apikey", "revoke", "--workspace", workspaceName, gone.Trim()[..11]);
        await ws.Client.GetAsync("/v1/keys");
        await app.Services.GetRequiredService<ApiKeyUsage>().FlushAsync(CancellationToken.None);

        var byName = await RunAsync("apikey", "list", "--workspace", workspaceName);
        var byId = await RunAsync("apikey", "list", "--workspace", ws.Id.ToString());

        Assert.True(byName.ExitCode == 0, byName.StdErr);
        Assert.Equal(byName.StdOut, byId.StdOut);
        var lines = byName.StdOut.TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Matches("^PREFIX +NAME +SCOPES +CREATED \\(UTC\\) +LAST USED \\(UTC\\) +REVOKED \\(UTC\\) +ID$", lines[0]);
        const string Minute = "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}";
        Assert.Matches($"^{ws.Key[..11]} +test +ingest,read,admin +{Minute} +{Minute} +- +[0-9a-f-]{{36}}$", lines[1]);
        Assert.Matches($"^{created.Trim()[..11]} +support bot +ingest,read +{Minute} +never +- +[0-9a-f-]{{36}}$", lines[2]);
        Assert.Matches($"^{gone.Trim()[..11]} +old +ingest +{Minute} +never +{Minute} +[0-9a-f-]{{36}}$", lines[3]);
        Assert.DoesNotContain(created.Trim(), byName.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(other.Key[..11], byName.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apikey_revoke_by_prefix_or_id_refuses_the_key_and_is_audited()
    {
        var ws = await app.CreateWorkspaceAsync();
        var (_, first, _) = await RunAsync("apikey", "create", "--workspace", ws.Id.ToString(), "--name", "first");
        var (_, second, _) = await RunAsync("apikey", "create", "--workspace", ws.Id.ToString(), "--name", "second");
        var secondPrefix = second.Trim()[..11];
        var secondId = await app.WithDbAsync(db => db.ApiKeys.Where(k => k.Prefix == secondPrefix).Select(k => k.Id).SingleAsync());

        var byPrefix = await RunAsync("apikey", "revoke", "--workspace", ws.Id.ToString(), first.Trim()[..11]);
        var byId = await RunAsync("apikey", "revoke", secondId.ToString(), "--workspace", ws.Id.ToString());
        var again = await RunAsync("apikey", "revoke", "--workspace", ws.Id.ToString(), first.Trim()[..11]);

        Assert.True(byPrefix.ExitCode == 0, byPrefix.StdErr);
        Assert.True(byId.ExitCode == 0, byId.StdErr);
        Assert.Contains($"Revoked key {first.Trim()[..11]} (first)", byPrefix.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already revoked", again.StdOut, StringComparison.Ordinal);
        foreach (var key in new[] { first.Trim(), second.Trim() })
        {
            using var client = app.CreateClient();
            client.DefaultRequestHeaders.Add("X-API-Key", key);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/v1/ingest", HttpExtensions.Json(
                """{"provider":"openai","model":"gpt-4o","inputTokens":1,"outputTokens":1,"status":"success"}"""))).StatusCode);
        }

        var entries = await app.WithDbAsync(db => db.AuditLog.Where(a => a.WorkspaceId == ws.Id && a.Action == AuditActions.KeyRevoked)
            .OrderBy(a => a.Id).ToListAsync());
        Assert.Equal([$"first ({first.Trim()[..11]})", $"second ({second.Trim()[..11]})"], entries.Select(e => e.Target));
        Assert.All(entries, e => Assert.Equal("cli:" + Environment.UserName, e.Actor));
    }

    [Fact]
    public async Task Apikey_revoke_of_an_unknown_or_another_workspaces_key_fails_with_one_line()
    {
        var ws = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();

        var unknown = await RunAsync("apikey", "revoke", "--workspace", ws.Id.ToString(), "om_zzzzzzzz");
        var theirs = await RunAsync("apikey", "revoke", "--workspace", ws.Id.ToString(), other.Key[..11]);
        var noWorkspace = await RunAsync("apikey", "revoke", "--workspace", "no-such-workspace-" + Guid.NewGuid(), other.Key[..11]);

        foreach (var (exitCode, stdout, stderr) in new[] { unknown, theirs, noWorkspace })
        {
            Assert.Equal(1, exitCode);
            Assert.Equal("", stdout);
            Assert.Single(stderr.TrimEnd().Split('\n'));
        }

        Assert.Contains("No key 'om_zzzzzzzz'", unknown.StdErr, StringComparison.Ordinal);
        Assert.Null(await app.WithDbAsync(db => db.ApiKeys.Where(k => k.WorkspaceId == other.Id).Select(k => k.RevokedAt).SingleAsync()));
    }

    [Theory]
    [InlineData("apikey revoke --workspace default")]
    [InlineData("apikey revoke --workspace default om_a om_b")]
    [InlineData("apikey revoke om_a --workspace")]
    [InlineData("apikey list --workspace default extra")]
    [InlineData("apikey list --bogus")]
    [InlineData("apikey rotate")]
    public async Task Apikey_list_and_revoke_answer_a_usage_error_with_exit_code_2(string command)
    {
        var (exitCode, stdout, stderr) = await RunAsync(command.Split(' '));

        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("apikey list --workspace NAME|ID", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apikey_create_refuses_unknown_scopes()
    {
        var workspace = await app.CreateWorkspaceAsync();
        var (exitCode, stdout, _) = await OpsmeterProcess.RunAsync(
            new Dictionary<string, string?> { ["ConnectionStrings__Opsmeter"] = app.ConnectionString },
            "apikey", "create", "--workspace", workspace.Id.ToString(), "--scopes", "ingest,root");

        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout.Trim());
    }
}
