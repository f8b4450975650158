using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Compare;
using Opsmeter.Web.Features.Exports;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Instance;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Invitations;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Features.Otlp;
using Opsmeter.Web.Features.Policy;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Repricing;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Cli;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.Hosting;
using Opsmeter.Web.Infrastructure.Jobs;
using Opsmeter.Web.Infrastructure.Logging;
using Opsmeter.Web.Infrastructure.RateLimits;

var builder = WebApplication.CreateBuilder(args);
try
{
    using var embeddedDatabase = builder.AddDatabase(); // a local PostgreSQL when no connection string is set; stopped at the end
    builder.Services.AddSingleton(TimeProvider.System);
    builder.Services.AddHostedService<StartupSequence>(); // what must happen before serving, in its order
    builder.AddOpsmeterLogging().AddOpsmeterWeb().AddOpsmeterAuth().AddOpsmeterRateLimits().AddOpsmeterJobs();
    builder.AddPricing().AddApiKeys().AddFirstRun().AddMembers().AddInvitations().AddIngest().AddOtlp().AddUsage().AddRetention().AddPolicy().AddQuota().AddIncidents()
        .AddNotifications().AddRepricing().AddAudit().AddInstance();

    var app = builder.Build();
    await app.EnsureReachableAsync();
    if (Commands.IsCommand(args))
    {
        return await Commands.RunAsync(app, args);
    }

    app.UseOpsmeterPipeline();
    app.MapIngestEndpoints();
    app.MapOtlpEndpoints();
    app.MapPricingEndpoints();
    app.MapApiKeyEndpoints();
    app.MapUsageEndpoints();
    app.MapBudgetEndpoints();
    app.MapIncidentEndpoints();
    app.MapPolicyEndpoints();
    app.MapExportEndpoints();
    app.MapCompareEndpoints();
    app.MapOpsmeterJobsDashboard();
    app.MapRazorPages();
    app.MapGet("/", () => Results.Redirect("/Dashboard")).ExcludeFromDescription();
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (WebSetup.IsExplained(e, out var explanation))
{
    await Console.Error.WriteLineAsync(explanation);
    return 1;
}
