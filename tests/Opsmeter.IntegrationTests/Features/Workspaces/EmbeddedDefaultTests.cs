using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;

namespace Opsmeter.IntegrationTests.Features.Workspaces;

/// <summary>The README's promise: with nothing configured, Opsmeter starts its own PostgreSQL, keeps the data, and stops it again.</summary>
public sealed class EmbeddedDefaultTests : IDisposable
{
    private readonly string dataRoot = Path.Combine(Path.GetTempPath(), $"opsmeter-embedded-{Guid.NewGuid():N}");

    [Fact]
    public async Task Starts_from_an_empty_folder_keeps_its_data_and_stops_its_database()
    {
        var pgData = Path.Combine(dataRoot, "postgres");
        var environment = new Dictionary<string, string?>
        {
            ["Opsmeter__EmbeddedDatabase__DataDirectory"] = pgData,
            ["Opsmeter__Bootstrap__ApiKey"] = "om_bootstrap_embedded-test-key-0123456789",
        };
        const string Event = """{"externalRequestId":"embedded-1","provider":"openai","model":"gpt-4o","inputTokens":10,"outputTokens":2,"status":"success"}""";

        var (first, firstAddress) = await OpsmeterProcess.StartAsync(environment);
        await using (first)
        {
            using var client = Client(firstAddress);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
            var created = await client.PostAsync("/v1/ingest", HttpExtensions.Json(Event));
            Assert.False((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
            await first.StopAsync();
            Assert.Equal(0, first.ExitCode);
        }

        // A clean stop of PostgreSQL removes its pid file.
        Assert.False(File.Exists(Path.Combine(pgData, "postmaster.pid")), "the embedded PostgreSQL is still running");

        var (second, secondAddress) = await OpsmeterProcess.StartAsync(environment);
        await using (second)
        {
            using var client = Client(secondAddress);
            var again = await client.PostAsync("/v1/ingest", HttpExtensions.Json(Event));
            Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        }
    }

    [Fact]
    public async Task An_unreachable_server_is_explained_in_one_line()
    {
        var (exitCode, _, stderr) = await OpsmeterProcess.RunAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Opsmeter"] = "Host=127.0.0.1;Port=1;Username=nobody;Timeout=3",
        }, "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("ConnectionStrings__Opsmeter", lines[0], StringComparison.Ordinal);
    }

    private static HttpClient Client(Uri address)
    {
        var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Add("X-API-Key", "om_bootstrap_embedded-test-key-0123456789");
        return client;
    }

    public void Dispose()
    {
        if (Directory.Exists(dataRoot))
        {
            Directory.Delete(dataRoot, recursive: true);
        }
    }
}
