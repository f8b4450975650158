using Hangfire;
using Hangfire.PostgreSql;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Retention;
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

    /// <summary>The queue of budget evaluation alone (<see cref="EvaluateBudgetsJob"/>), served by its own worker.</summary>
    public const string BudgetsQueue = "budgets";

    public static IHostApplicationBuilder AddOpsmeterJobs(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(DatabaseSetup.ConnectionStringName);
        builder.Services.AddHangfire(c => c
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
        if (builder.Configuration.GetValue("Jobs:RunServer", true))
        {
            // Recurring jobs are looked for every 15 s by default; an evaluation more often than that needs a closer look.
            var evaluateEvery = (builder.Configuration.GetSection(EvaluationOptions.Section).Get<EvaluationOptions>() ?? new()).EvaluateEverySeconds;
            var polling = TimeSpan.FromSeconds(Math.Clamp(evaluateEvery, 1, 15));
            // Two workers: the jobs are short and mostly wait on PostgreSQL or HTTP; more would take cores from ingest.
            builder.Services.AddHangfireServer(o =>
            {
                o.WorkerCount = 2;
                o.SchedulePollingInterval = polling;
            });
            // Budget evaluation has a queue and a worker of its own: a flood of webhook deliveries ("send test") on the
            // default queue cannot hold back the figures /v1/policy answers from.
            builder.Services.AddHangfireServer(o =>
            {
                o.ServerName = $"{Environment.MachineName}:budgets";
                o.WorkerCount = 1;
                o.Queues = [BudgetsQueue];
                o.SchedulePollingInterval = polling;
            });
        }

        return builder;
    }

    /// <summary>The whole recurring schedule, registered by the start-up sequence once the database is ready.</summary>
    public static void Schedule(IRecurringJobManager recurring, EvaluationOptions evaluation)
    {
        recurring.AddOrUpdate<EvaluateBudgetsJob>(EvaluateBudgetsJob.RecurringId, BudgetsQueue, j => j.RunAsync(CancellationToken.None), evaluation.Cron);
        // Nightly, when traffic is lowest in most places; it never blocks ingest in any case.
        recurring.AddOrUpdate<RetentionJob>(RetentionJob.RecurringId, j => j.RunAsync(CancellationToken.None), Cron.Daily(3));
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
}
