using Hangfire;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Incidents;
using Opsmeter.Web.Features.Policy;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.Jobs;

namespace Opsmeter.Web.Infrastructure.Hosting;

/// <summary>
/// Everything that must happen before Opsmeter serves, in the order it must happen. It runs in
/// <see cref="IHostedLifecycleService.StartingAsync"/>, which the host calls before it starts any hosted service
/// (the ingest writer, the background loops, Hangfire's server, Data Protection's key ring, Kestrel), whatever
/// order they were registered in; so correctness depends on this list, not on the order of lines elsewhere.
/// </summary>
internal sealed class StartupSequence(IServiceProvider services, IConfiguration configuration) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        // 1. The schema, the shipped price catalog, the bootstrap workspace and key, and the prices in memory.
        await services.PrepareDatabaseAsync(configuration.GetValue("Database:MigrateOnStartup", true), cancellationToken);
        // 1b. While nobody has claimed the instance, the one-time setup token that /setup asks for, in the log.
        await LogSetupTokenAsync(cancellationToken);
        // 2. Every workspace's budgets and mode, so the first /v1/policy and ingest answers know them.
        await services.GetRequiredService<PolicySnapshot>().ReloadAsync(cancellationToken);
        // 2b. The daily partitions of every day ingest accepts events for, so that requests find them made (no DDL on the way in).
        await services.GetRequiredService<PartitionMaintenance>().RunOnceAsync(cancellationToken);
        // 3. The recurring jobs (their storage needs the database).
        JobsSetup.Schedule(services.GetRequiredService<IRecurringJobManager>(), services.GetRequiredService<IOptions<EvaluationOptions>>().Value);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task LogSetupTokenAsync(CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        if (await scope.ServiceProvider.GetRequiredService<SetupToken>().EnsureAsync(ct) is { } token)
        {
            // The one secret Opsmeter ever logs, on purpose: it is how the operator proves they run this server, and it is
            // useless once the instance is claimed.
            scope.ServiceProvider.GetRequiredService<ILogger<StartupSequence>>().LogWarning(
                "No account exists yet. Open /setup in a browser to create the owner account; from another machine it asks for this setup token: {SetupToken:l}",
                token);
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// The periodic loops beside request handling (rollup folding, the policy refresh, API key last-use writes). On by
/// default; <c>Opsmeter:BackgroundLoops=false</c> leaves them unstarted, so that a test host runs each one only when
/// a test calls it (their work stays callable: <c>RunOnceAsync</c>, <c>ReloadAsync</c>, <c>FlushAsync</c>).
/// </summary>
internal static class BackgroundLoops
{
    public const string Setting = "Opsmeter:BackgroundLoops";

    /// <summary>Registers <typeparamref name="TLoop"/> (already a singleton) as a hosted service when loops run.</summary>
    public static void AddBackgroundLoop<TLoop>(this IHostApplicationBuilder builder)
        where TLoop : class, IHostedService
    {
        if (builder.Configuration.GetValue(Setting, true))
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<TLoop>());
        }
    }
}
