using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Infrastructure.Cli;

/// <summary>
/// Operator commands run instead of the server: <c>migrate</c>, and
/// <c>apikey create --workspace NAME --scopes ingest,read [--name LABEL]</c>, which prints a new key once, and
/// <c>prices import FILE [--dry-run] [--effective-from INSTANT] [--all-providers]</c> (see <see cref="ImportPrices"/>).
/// </summary>
internal static class Commands
{
    private const string Usage = "Usage: migrate | apikey create --workspace NAME --scopes ingest,read,admin [--name LABEL]"
        + " | prices import FILE [--dry-run] [--effective-from 2026-12-01T00:00:00Z] [--all-providers]";

    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "migrate" or "apikey" or "prices";

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
            case ["prices", "import", var file, .. var options]:
                return await ImportPricesAsync(app, file, options);
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

    private static async Task<int> ImportPricesAsync(WebApplication app, string file, string[] options)
    {
        DateTimeOffset? from = null;
        if (Option(options, "--effective-from") is { } text)
        {
            if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
            {
                await Console.Error.WriteLineAsync($"--effective-from takes an instant such as 2026-12-01T00:00:00Z, not '{text}'.");
                return 2;
            }

            from = parsed.ToUniversalTime();
        }

        if (!File.Exists(file))
        {
            await Console.Error.WriteLineAsync($"No file '{file}'.");
            return 2;
        }

        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        PriceImportResult result;
        try
        {
            result = await ImportPrices.RunAsync(services.GetRequiredService<OpsmeterDbContext>(), services.GetRequiredService<AuditLog>(),
                services.GetRequiredService<PriceCatalogRefresh>(), services.GetRequiredService<IPriceChangeHandler>(),
                services.GetRequiredService<TimeProvider>(), file, options.Contains("--dry-run"), from, options.Contains("--all-providers"),
                "cli:" + Environment.UserName, CancellationToken.None);
        }
        catch (System.Text.Json.JsonException e)
        {
            await Console.Error.WriteLineAsync($"'{file}' is not a price list in either format: {e.Message}");
            return 1;
        }

        foreach (var line in result.Added)
        {
            Console.WriteLine("added    " + line);
        }

        foreach (var line in result.Changed)
        {
            Console.WriteLine("changed  " + line);
        }

        Console.WriteLine($"{result.Added.Count} new, {result.Changed.Count} changed, {result.Unchanged} unchanged, {result.Skipped} skipped" +
            (result.DryRun ? " (dry run: nothing written)." : "; unpriced events they cover are being re-priced."));
        return 0;
    }

    private static string? Option(string[] options, string name)
    {
        var i = Array.IndexOf(options, name);
        return i >= 0 && i + 1 < options.Length ? options[i + 1] : null;
    }
}
