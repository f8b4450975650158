using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Infrastructure.Cli;

/// <summary>
/// Operator commands run instead of the server: <c>migrate</c>, and
/// <c>apikey create --workspace NAME --scopes ingest,read [--name LABEL]</c>, which prints a new key once.
/// </summary>
internal static class Commands
{
    private const string Usage = "Usage: migrate | apikey create --workspace NAME --scopes ingest,read,admin [--name LABEL]";

    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "migrate" or "apikey";

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        switch (args)
        {
            case [.., "--help" or "-h"]:
                Console.WriteLine(Usage);
                return 0;
            case ["migrate", ..]:
                await app.Services.PrepareDatabaseAsync(migrate: true);
                Console.WriteLine("The database is up to date.");
                return 0;
            case ["apikey", "create", .. var options]:
                return await CreateKeyAsync(app, Option(options, "--workspace") ?? "default",
                    Option(options, "--scopes") ?? ApiKeyScopes.Ingest, Option(options, "--name") ?? "cli");
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }

    private static async Task<int> CreateKeyAsync(WebApplication app, string workspaceName, string scopes, string name)
    {
        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var workspace = await CreateApiKey.FindWorkspaceAsync(db, workspaceName, CancellationToken.None);
        if (workspace is null)
        {
            await Console.Error.WriteLineAsync($"No workspace named '{workspaceName}'.");
            return 1;
        }

        var requested = scopes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (requested.Length == 0 || requested.Except(ApiKeyScopes.All).Any())
        {
            await Console.Error.WriteLineAsync($"--scopes takes a comma-separated list of: {string.Join(", ", ApiKeyScopes.All)}.");
            return 2;
        }

        var created = await CreateApiKey.HandleAsync(db, scope.ServiceProvider.GetRequiredService<TimeProvider>(),
            workspace.Id, name, requested, CancellationToken.None);
        await Console.Error.WriteLineAsync($"Created key {created.Prefix} for workspace '{workspace.Name}' with scopes {string.Join(",", created.Scopes)}. It is shown once; store it now:");
        Console.WriteLine(created.Key);
        return 0;
    }

    private static string? Option(string[] options, string name)
    {
        var i = Array.IndexOf(options, name);
        return i >= 0 && i + 1 < options.Length ? options[i + 1] : null;
    }
}
