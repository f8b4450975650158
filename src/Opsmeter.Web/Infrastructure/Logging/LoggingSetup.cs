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
        return builder;
    }

    /// <summary>
    /// One log event per request, carrying WorkspaceId and ExternalRequestId where the handler set them.
    /// Successful ingest logs at Debug: at thousands of events a second, a line each would cost more than the ingest.
    /// Headers and bodies are never logged, so keys never reach the log.
    /// </summary>
    public static IApplicationBuilder UseOpsmeterRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(o => o.GetLevel = (http, _, error) =>
            error is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
            : http.Response.StatusCode >= 400 ? LogEventLevel.Warning
            : http.Request.Path.StartsWithSegments("/v1/ingest") || http.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Debug
            : LogEventLevel.Information);
}
