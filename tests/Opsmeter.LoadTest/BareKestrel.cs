using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.LoadTest;

/// <summary>
/// The ceilings for single-event ingest and for the policy: a bare Kestrel endpoint that reads the same JSON with the same
/// source-generated serializer and answers, with no validation, pricing or database. Runs as its own
/// process (<c>bare-server</c>) so it competes for the CPU exactly as Opsmeter does.
/// </summary>
internal static class BareKestrel
{
    /// <summary>Starts this program as the bare server (<c>bare-server</c>) on a free loopback port, as its own process.</summary>
    public static Task<(OpsmeterProcess App, Uri Address)> StartProcessAsync() => OpsmeterProcess.StartAsync(
        Path.Combine(AppContext.BaseDirectory, "Opsmeter.LoadTest.dll"), ["bare-server", "http://127.0.0.1:0"], new Dictionary<string, string?>());

    public static async Task RunAsync(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.MapPost("/ingest", async (HttpRequest request) =>
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, IngestJsonContext.Default.IngestEventRequest);
            return body?.Provider is null ? Results.BadRequest() : Results.Ok();
        });
        // The ceiling for /v1/policy: a GET answered with a small JSON body from memory.
        app.MapGet("/policy", () => Results.Json(new { action = "allow", reasons = Array.Empty<string>(), mode = "enforce", ttlSeconds = 15 }));
        await app.StartAsync();
        // The same line Kestrel logs, so the benchmark finds the port the same way for both servers.
        Console.WriteLine($"Now listening on: {app.Urls.First()}");
        await app.WaitForShutdownAsync();
    }
}
