using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog;
using Serilog.Events;

namespace Opsmeter.Web.Infrastructure.Logging;

internal static class LoggingSetup
{
    /// <summary>One Serilog pipeline, levels from the "Serilog" section of configuration (no static bootstrap logger, so several test hosts can run).</summary>
    public static WebApplicationBuilder AddOpsmeterLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            // WorkspaceId and ExternalRequestId render only on the events that carry them (request logs of ingest).
            .WriteTo.Console(
                outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {WorkspaceId} {ExternalRequestId}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture));

        // Serilog's logger factory builds a new logger, with caches of its own, on every CreateLogger, and ASP.NET
        // Core's authentication handlers ask for one on every request: a tenth of what an ingest request allocated.
        var serilogFactory = builder.Services.Last(d => d.ServiceType == typeof(ILoggerFactory));
        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(services =>
            new CachingLoggerFactory((ILoggerFactory)serilogFactory.ImplementationFactory!(services))));
        return builder;
    }

    /// <summary>
    /// One log event per request, carrying WorkspaceId and ExternalRequestId where the handler set them.
    /// Successful ingest logs at Debug: at thousands of events a second, a line each would cost more than the ingest.
    /// Headers and bodies are never logged, so keys never reach the log.
    /// </summary>
    public static IApplicationBuilder UseOpsmeterRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(o =>
        {
            // This host's own logger: without it the middleware writes to the static Log.Logger, which the last host built in
            // the process owns (several test hosts run at once; RequestLogTests missed its line when another started later).
            o.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            o.GetLevel = (http, _, error) =>
                error is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
                : http.Response.StatusCode >= 400 ? LogEventLevel.Warning
                : http.Request.Path.StartsWithSegments("/v1/ingest") || http.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Debug
                : LogEventLevel.Information;
            o.GetMessageTemplateProperties = (http, path, elapsedMs, status) =>
            [
                new LogEventProperty("RequestMethod", new ScalarValue(http.Request.Method)),
                new LogEventProperty("RequestPath", new ScalarValue(Redact(path))),
                new LogEventProperty("StatusCode", new ScalarValue(status)),
                new LogEventProperty("Elapsed", new ScalarValue(elapsedMs)),
            ];
        });

    /// <summary>An invitation link's token is a secret in the path (/invite/{token}): the log shows /invite/… instead.</summary>
    internal static string Redact(string path) =>
        path.StartsWith("/invite/", StringComparison.OrdinalIgnoreCase) ? "/invite/…" : path;
}

/// <summary>One logger per category, made once: loggers are thread-safe and depend only on their category name.</summary>
internal sealed class CachingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, Microsoft.Extensions.Logging.ILogger> loggers = new(StringComparer.Ordinal);

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => loggers.GetOrAdd(categoryName, inner.CreateLogger);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();
}
