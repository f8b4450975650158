using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.Web.Infrastructure.Http;

internal static class ProblemDetailsSetup
{
    /// <summary>Every error is RFC 9457 problem details with a traceId; the exceptions we expect become 4xx/503, never 500.</summary>
    public static IServiceCollection AddOpsmeterProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions.TryAdd("traceId", Activity.Current?.Id ?? context.HttpContext.TraceIdentifier));
        services.AddExceptionHandler<ExpectedExceptionHandler>();
        // Binding failures (malformed JSON, wrong types, oversized bodies) surface as BadHttpRequestException,
        // which ExpectedExceptionHandler turns into field-keyed problem details.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>
    /// Errors as their audience reads them: problem details for the API (and anything that is not a
    /// page), a page for people on the dashboard.
    /// </summary>
    public static WebApplication UseOpsmeterErrorPages(this WebApplication app)
    {
        app.UseWhen(IsApi, api => api.UseExceptionHandler().UseStatusCodePages());
        app.UseWhen(http => !IsApi(http), pages => pages.UseExceptionHandler("/status/500").UseStatusCodePagesWithReExecute("/status/{0}"));
        return app;
    }

    private static bool IsApi(HttpContext http) =>
        http.Request.Path.StartsWithSegments("/v1") || http.Request.Path.StartsWithSegments("/health") || http.Request.Path.StartsWithSegments("/swagger");
}

internal sealed class ExpectedExceptionHandler(IProblemDetailsService problems, IOptions<IngestOptions> ingest) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        ProblemDetails? problem = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => new HttpValidationProblemDetails(JsonErrors.ToValidationErrors(json))
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body could not be read.",
            },
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
                    StatusCodes.Status415UnsupportedMediaType => "The request body must be application/json.",
                    _ => "The request could not be read.",
                },
                Detail = bad.InnerException is System.Text.DecoderFallbackException or ArgumentException
                    ? "The request body is not valid UTF-8."
                    : bad.Message,
            },
            IngestUnavailableException unavailable => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Ingest is temporarily unavailable; nothing was acknowledged. Retry with the same externalRequestId.",
                Detail = unavailable.Message,
            },
            IngestShareExceededException share => new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "This workspace is sending events faster than they are committed; nothing was acknowledged. Retry with the same externalRequestId.",
                Detail = share.Message,
            },
            // PostgreSQL text cannot hold a NUL character (22021): a value that carries one is the client's mistake, and
            // the statement that met it changed nothing.
            _ when IsUnstorableText(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request holds a character that cannot be stored.",
                Detail = "A text value contains a NUL character (\\u0000), which no field accepts.",
            },
            _ when IsDatabaseUnavailable(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The database cannot be reached right now; nothing was changed. Retry shortly.",
            },
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        if (problem.Status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests)
        {
            http.Response.Headers.RetryAfter = ingest.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    private static bool IsUnstorableText(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.CharacterNotInRepertoire })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A failure to reach PostgreSQL (refused, reset, timed out, shutting down), possibly wrapped by EF Core; not a refusal of the data itself.</summary>
    private static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException npgsql && (npgsql is not PostgresException || npgsql.IsTransient))
            {
                return true;
            }
        }

        return false;
    }
}
