using FluentValidation;
using Npgsql;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.Http;
using Opsmeter.Web.Infrastructure.Logging;
using Opsmeter.Web.Infrastructure.OpenApi;

namespace Opsmeter.Web.Infrastructure.Hosting;

/// <summary>The web side of the host: errors, validation, OpenAPI, the dashboard's pages, and the request pipeline in its order.</summary>
internal static class WebSetup
{
    public static IHostApplicationBuilder AddOpsmeterWeb(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOpsmeterProblemDetails().AddOpsmeterSwagger();
        builder.AddOpsmeterProxyDefaults();
        // Singletons: a FluentValidation validator compiles its rules when built, which is too slow to do per request.
        builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton, includeInternalTypes: true);
        builder.Services.AddRazorPages(o => o.Conventions.AuthorizeAreaFolder("Dashboard", "/", AuthSetup.DashboardPolicy));
        builder.Services.AddHealthChecks().AddDbContextCheck<OpsmeterDbContext>("database", tags: ["ready"]);
        return builder;
    }

    public static WebApplication UseOpsmeterPipeline(this WebApplication app)
    {
        app.UseOpsmeterProxyDefaults(); // first: everything after sees the client's address and scheme
        app.UseSecurityHeaders();
        app.UseStaticFiles(); // before the request log: a line per script and style of every page view would drown the page views
        // Outside the error pages: a request logs once, with the status its client got (a body that is not JSON logs 400,
        // not the 500 its exception would be before the handler answers it).
        app.UseOpsmeterRequestLogging();
        app.UseOpsmeterErrorPages();
        app.UseOpsmeterSwagger();
        app.UseRouting(); // explicit, after the error pages, so that their re-executed requests are routed again
        app.UseAuthentication();
        app.UseRateLimiter(); // after authentication: the per-key limit partitions by the key's id
        app.UseAuthorization();
        app.UseIngestAdmission(); // after authorization (the workspace is the key's), before an ingest route reads its body
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }

    /// <summary>A start-up failure that one line explains (what to install or set), said without a stack trace.</summary>
    public static bool IsExplained(Exception e, out string explanation)
    {
        explanation = e switch
        {
            LocalPostgresUnavailableException or InvalidSettingException => $"Opsmeter cannot start: {e.Message}",
            NpgsqlException => $"Opsmeter cannot reach PostgreSQL ({e.Message}): check ConnectionStrings__Opsmeter, " +
                "or unset it to use the embedded local database.",
            _ => "",
        };
        return explanation.Length > 0;
    }
}
