using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.DataProtection;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Infrastructure.Jobs;

/// <summary>
/// Hangfire on the same PostgreSQL (schema "hangfire"), the whole recurring schedule, and the job
/// dashboard at /dashboard/jobs for signed-in people. Workers run in the web process unless
/// <c>Jobs:RunServer=false</c> (an API-only server, or tests that call jobs directly).
/// </summary>
internal static class JobsSetup
{
    public const string DashboardPath = "/dashboard/jobs";

    public static IServiceCollection AddOpsmeterJobs(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(DatabaseSetup.ConnectionStringName);
        services.AddHangfire(c => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                // Webhook deliveries and "send test" should not wait the default 15 s for a worker to look.
                QueuePollInterval = TimeSpan.FromSeconds(2),
            }));
        if (configuration.GetValue("Jobs:RunServer", true))
        {
            // Two workers: the jobs are short and mostly wait on PostgreSQL or HTTP; more would take cores from ingest.
            services.AddHangfireServer(o => o.WorkerCount = 2);
        }

        services.AddHostedService<RecurringJobsSchedule>();
        services.AddScoped<EvaluateBudgetsJob>();
        services.AddScoped<IncidentNotifier>();
        services.AddScoped<DeliverWebhookJob>();
        services.AddScoped<Features.Retention.RetentionJob>();
        // No redirects: a webhook answers where it was configured, and a redirect must not carry the signed body elsewhere.
        services.AddHttpClient(DeliverWebhookJob.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddDataProtection().SetApplicationName("Opsmeter").PersistKeysToDbContext<OpsmeterDbContext>();
        return services;
    }

    /// <summary>
    /// The job dashboard shows payloads and can trigger or delete any workspace's jobs: for people who own or administer
    /// a workspace (<see cref="Auth.AuthSetup.JobsPolicy"/>); anonymous visitors go to the sign-in page.
    /// </summary>
    public static void MapOpsmeterJobsDashboard(this WebApplication app) =>
        app.MapHangfireDashboardWithAuthorizationPolicy(Auth.AuthSetup.JobsPolicy, DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Opsmeter jobs",
            AppPath = "/Dashboard",
        });

    /// <summary>Registers the schedule once the database is ready (it is registered after the database initializer).</summary>
    private sealed class RecurringJobsSchedule(IRecurringJobManager recurring) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            recurring.AddOrUpdate<EvaluateBudgetsJob>(EvaluateBudgetsJob.RecurringId, j => j.RunAsync(CancellationToken.None), Cron.Minutely());
            // Nightly, when traffic is lowest in most places; it never blocks ingest in any case.
            recurring.AddOrUpdate<Features.Retention.RetentionJob>(Features.Retention.RetentionJob.RecurringId,
                j => j.RunAsync(CancellationToken.None), Cron.Daily(3));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
