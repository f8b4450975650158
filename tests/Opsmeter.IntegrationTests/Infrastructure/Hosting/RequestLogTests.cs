using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace Opsmeter.IntegrationTests.Infrastructure.Hosting;

/// <summary>What an operator reads in the log about a request: the status its client got, at a level that matches it.</summary>
public sealed class RequestLogTests
{
    [Fact]
    public async Task A_body_that_is_not_json_logs_the_400_its_client_got_not_an_error()
    {
        // Serilog reads sinks registered as services (ReadFrom.Services): the app's own pipeline writes to this one too.
        var log = new CollectingSink();
        await using var app = new OpsmeterApp(new Dictionary<string, string>(), services => services.AddSingleton<ILogEventSink>(log));
        await app.InitializeAsync();
        var ws = await app.CreateWorkspaceAsync();

        var response = await ws.Client.PostAsync("/v1/ingest", HttpExtensions.Json("""{"externalRequestId": 42, "provider": """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // The line is written when the response completes, which the client may see first.
        await Eventually.UntilAsync(() => Task.FromResult(log.RequestsTo("/v1/ingest").Any()), TimeSpan.FromSeconds(10), "the request's log line");
        var logged = log.RequestsTo("/v1/ingest").Single();
        Assert.Equal("400", logged.Properties["StatusCode"].ToString());
        Assert.Equal(LogEventLevel.Warning, logged.Level);
        Assert.DoesNotContain(log.Events, e => e.Level >= LogEventLevel.Error);
    }

    private sealed class CollectingSink : ILogEventSink
    {
        public ConcurrentQueue<LogEvent> Events { get; } = new();

        public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);

        public IEnumerable<LogEvent> RequestsTo(string path) =>
            Events.Where(e => e.Properties.TryGetValue("RequestPath", out var p) && p.ToString() == $"\"{path}\""
                && e.Properties.ContainsKey("StatusCode"));
    }
}
