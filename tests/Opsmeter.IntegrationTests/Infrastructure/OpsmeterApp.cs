using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>The real app over HTTP, on its own database of the shared test server. Tests isolate themselves by workspace.</summary>
public sealed class OpsmeterApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly IReadOnlyDictionary<string, string> settings;
    private readonly Action<IServiceCollection>? services;
    private string connectionString = "";

    public OpsmeterApp()
        : this(new Dictionary<string, string>())
    {
    }

    /// <summary>An app of its own (own database) with extra configuration, for tests that need a fresh server.</summary>
    internal OpsmeterApp(IReadOnlyDictionary<string, string> settings) => this.settings = settings;

    /// <summary>An app of its own whose services a test replaces (a <c>FakeTimeProvider</c> as its clock).</summary>
    internal OpsmeterApp(IReadOnlyDictionary<string, string> settings, Action<IServiceCollection> services)
        : this(settings) => this.services = services;

    public async Task InitializeAsync()
    {
        connectionString = await TestDatabase.CreateDatabaseAsync("opsmeter");
        // Real Kestrel on a free loopback port, so body limits, HTTP parsing and shutdown behave as in production.
        UseKestrel(0);
        StartServer(); // migrations, catalog, bootstrap
    }

    internal string ConnectionString => connectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Opsmeter", connectionString);
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        // Tests run jobs and loops by calling them (RunOnceAsync, ReloadAsync, FlushAsync): no workers or timers racing them.
        builder.UseSetting("Jobs:RunServer", "false");
        builder.UseSetting("Opsmeter:BackgroundLoops", "false");
        // Every test's client comes from 127.0.0.1: per-address limits would let one test's sign-ins refuse another's.
        // The rate-limit tests turn them on in an app of their own (Features/RateLimits).
        builder.UseSetting("Opsmeter:RateLimits:SignInPostsPerAddress", "0");
        builder.UseSetting("Opsmeter:RateLimits:UnknownKeysPerAddress", "0");
        // Webhook tests post to a WebhookReceiver on 127.0.0.1, which the production guard refuses: the allow-list names it.
        // Only that host: "localhost" or [::1] stay refused. An app's own settings may clear it ("Opsmeter:Webhooks:AllowedHosts:0" = "").
        builder.UseSetting("Opsmeter:Webhooks:AllowedHosts:0", "127.0.0.1");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
    }

    /// <summary>A new workspace and nothing in it (no key, so no audit entry either): for tests that look at its audit log.</summary>
    internal async Task<Guid> CreateEmptyWorkspaceAsync()
    {
        var id = Guid.CreateVersion7();
        await WithDbAsync(db =>
        {
            db.Workspaces.Add(new Workspace { Id = id, Name = "test-" + Guid.NewGuid().ToString("N"), CreatedAt = DateTimeOffset.UtcNow });
            return db.SaveChangesAsync();
        });
        return id;
    }

    /// <summary>A new workspace with a key of the given scopes, and a client that sends it.</summary>
    internal async Task<TestWorkspace> CreateWorkspaceAsync(params string[] scopes)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var clock = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var workspace = new Workspace { Id = Guid.CreateVersion7(), Name = "test-" + Guid.NewGuid().ToString("N"), CreatedAt = clock.GetUtcNow() };
        db.Workspaces.Add(workspace);
        await db.SaveChangesAsync();
        var key = await CreateApiKey.HandleAsync(db, scope.ServiceProvider.GetRequiredService<AuditLog>(), clock, workspace.Id, "test",
            scopes.Length == 0 ? ApiKeyScopes.All : scopes, "test", CancellationToken.None);
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", key.Key);
        return new TestWorkspace(workspace.Id, key.Key, client);
    }

    internal async Task<T> WithDbAsync<T>(Func<OpsmeterDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>());
    }

    /// <summary>
    /// Runs the rollup fold until every event of the workspace is in the rollups (the background loop is off in tests).
    /// A pass folds only events below the snapshot horizon, which a transaction of a test running alongside (on any
    /// database of the shared server) can hold back for a moment: so it folds again until none is left, bounded.
    /// </summary>
    internal async Task FoldAllAsync(Guid workspaceId)
    {
        var worker = Services.GetRequiredService<RollupWorker>();
        var waited = Stopwatch.StartNew();
        while (true)
        {
            await worker.RunOnceAsync(CancellationToken.None);
            var unfolded = await WithDbAsync(db => db.Database.SqlQuery<int>($"""
                SELECT count(*)::int AS "Value" FROM llm_requests
                WHERE workspace_id = {workspaceId} AND ingest_xid >= (SELECT processed_below_xid FROM rollup_state WHERE name = 'usage')
                """).SingleAsync());
            if (unfolded == 0)
            {
                return;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"{unfolded} events still unfolded after 30 s of folding");
            await Task.Delay(50);
        }
    }

    /// <summary>Lets the workspace keep (and so ingest) raw events <paramref name="days"/> back, as the Settings page would.</summary>
    internal async Task KeepRawEventsAsync(Guid workspaceId, int days)
    {
        await WithDbAsync(db => db.Workspaces.Where(w => w.Id == workspaceId).ExecuteUpdateAsync(s => s.SetProperty(w => w.RawRetentionDays, days)));
        Services.GetRequiredService<RawRetention>().Invalidate();
    }

    public new async Task DisposeAsync() => await base.DisposeAsync();
}

internal sealed record TestWorkspace(Guid Id, string Key, HttpClient Client);

[CollectionDefinition(Name)]
public sealed class SharedApp : ICollectionFixture<OpsmeterApp>
{
    public const string Name = "app";
}

internal static class HttpExtensions
{
    public static StringContent Json(string body) => new(body, new MediaTypeHeaderValue("application/json"));
}

/// <summary>
/// Tests that kill or stop whole processes under load, or judge the test process's own memory: they run alone, after
/// every other test, so that nothing beside them takes the CPU, memory or database they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessLevel
{
    public const string Name = "process-level";
}
