using FluentValidation;
using Npgsql;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Compare;
using Opsmeter.Web.Features.Exports;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Cli;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.Http;
using Opsmeter.Web.Infrastructure.Jobs;
using Opsmeter.Web.Infrastructure.Logging;
using Opsmeter.Web.Infrastructure.OpenApi;

var builder = WebApplication.CreateBuilder(args);
LocalPostgres? embeddedDatabase = null;
try
{
    embeddedDatabase = builder.AddDatabase();
    builder.Services.AddHostedService<DatabaseInitializer>(); // first: the other hosted services (Data Protection's key ring too) need the schema
    builder.AddOpsmeterLogging();
    builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = IngestOptions.MaxBatchBodyBytes);
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJsonContext.Default));
    builder.Services.AddOpsmeterProblemDetails();
    // Singletons: a FluentValidation validator compiles its rules when built, which is too slow to do per request.
    builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Singleton, includeInternalTypes: true);
    builder.Services.AddOpsmeterAuth();
    builder.Services.AddOpsmeterSwagger();
    builder.Services.AddRazorPages(o => o.Conventions.AuthorizeAreaFolder("Dashboard", "/", AuthSetup.DashboardPolicy));
    builder.Services.AddScoped<CurrentWorkspace>();
    builder.Services.AddOptionsWithValidateOnStart<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateDataAnnotations();
    builder.Services.AddOptionsWithValidateOnStart<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section).ValidateDataAnnotations();
    builder.Services.AddSingleton<PriceCatalog>();
    builder.Services.AddScoped<WorkspaceBootstrap>();
    builder.Services.AddSingleton<EventPartitions>();
    builder.Services.AddSingleton<RawRetention>();
    builder.Services.AddSingleton<IngestWriter>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<IngestWriter>());
    builder.Services.AddSingleton<RollupWorker>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<RollupWorker>());
    builder.Services.AddSingleton<PolicySnapshot>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<PolicySnapshot>());
    builder.Services.AddOpsmeterJobs(builder.Configuration);

    var app = builder.Build();
    await app.EnsureReachableAsync();
    if (Commands.IsCommand(args))
    {
        return await Commands.RunAsync(app, args);
    }

    app.UseOpsmeterErrorPages();
    app.UseOpsmeterSwagger();
    app.UseStaticFiles();
    app.UseOpsmeterRequestLogging();
    app.UseRouting(); // explicit, after the error pages, so that their re-executed requests are routed again
    app.UseAuthentication();
    app.UseAuthorization();
    app.MapOpsmeterJobsDashboard();

    app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
    app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains("ready") });
    app.MapIngestEndpoints();
    app.MapPricingEndpoints();
    app.MapUsageEndpoints();
    app.MapBudgetEndpoints();
    app.MapExportEndpoints();
    app.MapCompareEndpoints();
    app.MapRazorPages();
    app.MapGet("/", () => Results.Redirect("/Dashboard")).ExcludeFromDescription();

    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is LocalPostgresUnavailableException or NpgsqlException)
{
    // Said in one line, without a stack trace: what to install or set.
    await Console.Error.WriteLineAsync(e is LocalPostgresUnavailableException
        ? $"Opsmeter cannot start: {e.Message}"
        : $"Opsmeter cannot reach PostgreSQL ({e.Message}): check ConnectionStrings__Opsmeter, or unset it to use the embedded local database.");
    return 1;
}
finally
{
    embeddedDatabase?.Dispose();
}
