using System.Net;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;

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
