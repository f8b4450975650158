using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Infrastructure.Cli;

/// <summary>
/// Operator commands run instead of the server: <c>migrate</c>, <c>setup-token</c> (first run's token, see
/// <see cref="SetupToken"/>),
/// <c>apikey create --workspace NAME --scopes ingest,read [--name LABEL]</c>, which prints a new key once,
/// <c>apikey list --workspace NAME|ID</c> and <c>apikey revoke --workspace NAME|ID PREFIX|ID</c> (each creation and revocation
/// audited as <c>cli:&lt;user&gt;</c>),
/// <c>prices import FILE [--dry-run] [--effective-from INSTANT] [--all-providers]</c> (see <see cref="ImportPrices"/>), and
/// <c>workspace create NAME --owner EMAIL</c>, <c>workspace list</c> and <c>workspace quota NAME|ID N|none</c> (see <see cref="WorkspaceCommands"/>).
/// </summary>
internal static class Commands
{
    private const string Usage = "Usage: migrate | setup-token | apikey create --workspace NAME --scopes ingest,read,admin [--name LABEL]"
        + " | apikey list --workspace NAME|ID | apikey revoke --workspace NAME|ID PREFIX|ID"
        + " | prices import FILE [--dry-run] [--effective-from 2026-12-01T00:00:00Z] [--all-providers]"
        + " | workspace create NAME --owner EMAIL | workspace list | workspace quota NAME|ID REQUESTS_PER_MONTH|none";

    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] is "migrate" or "setup-token" or "apikey" or "prices" or "workspace";

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
            case ["setup-token"]:
                return await ShowSetupTokenAsync(app);
            case ["apikey", "create", .. var options]:
                return await CreateKeyAsync(app, Option(options, "--workspace") ?? "default",
                    Option(options, "--scopes") ?? ApiKeyScopes.Ingest, Option(options, "--name") ?? "cli");
            case ["apikey", "list", .. var options] when WorkspaceAndArguments(options) is ({ } workspace, []):
                return await ListKeysAsync(app, workspace);
            case ["apikey", "revoke", .. var options] when WorkspaceAndArguments(options) is ({ } workspace, [var key]):
                return await RevokeKeyAsync(app, workspace, key);
            case ["prices", "import", var file, .. var options]:
                return await ImportPricesAsync(app, file, options);
            case ["workspace", "create", var name, .. var options] when !name.StartsWith("--", StringComparison.Ordinal) && Option(options, "--owner") is { } owner:
                return await WorkspaceCommands.CreateAsync(app, name, owner);
            case ["workspace", "list"]:
                return await WorkspaceCommands.ListAsync(app);
            case ["workspace", "quota", var workspace, var quota]:
                return await WorkspaceCommands.SetQuotaAsync(app, workspace, quota);
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }

    /// <summary>The first-run token that /setup asks for from another machine; exit 1 once the instance is claimed.</summary>
    private static async Task<int> ShowSetupTokenAsync(WebApplication app)
    {
        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        if (await scope.ServiceProvider.GetRequiredService<SetupToken>().EnsureAsync(CancellationToken.None) is not { } token)
        {
            await Console.Error.WriteLineAsync("This instance is already set up: an account exists, so there is no setup token. Sign in instead.");
            return 1;
        }

        Console.WriteLine(token);
        return 0;
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

        var created = await CreateApiKey.HandleAsync(db, scope.ServiceProvider.GetRequiredService<AuditLog>(),
            scope.ServiceProvider.GetRequiredService<TimeProvider>(), workspace.Id, name, requested, CliActor, CancellationToken.None);
        await Console.Error.WriteLineAsync($"Created key {created.Prefix} for workspace '{workspace.Name}' with scopes {string.Join(",", created.Scopes)}. It is shown once; store it now:");
        Console.WriteLine(created.Key);
        return 0;
    }

    /// <summary>The workspace's keys as a table, revoked ones included; never a secret.</summary>
    private static async Task<int> ListKeysAsync(WebApplication app, string workspaceName)
    {
        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpsmeterDbContext>();
        var workspace = await CreateApiKey.FindWorkspaceAsync(db, workspaceName, CancellationToken.None);
        if (workspace is null)
        {
            await Console.Error.WriteLineAsync($"No workspace '{workspaceName}' (by name or id).");
            return 1;
        }

        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.WorkspaceId == workspace.Id)
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).ToListAsync();
        List<string[]> rows =
        [
            ["PREFIX", "NAME", "SCOPES", "CREATED (UTC)", "LAST USED (UTC)", "REVOKED (UTC)", "ID"],
            .. keys.Select(k => new[]
            {
                k.Prefix, Printable(k.Name), string.Join(",", k.Scopes), Minute(k.CreatedAt), k.LastUsedAt is { } used ? Minute(used) : "never",
                k.RevokedAt is { } revoked ? Minute(revoked) : "-", k.Id.ToString(),
            }),
        ];
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))));
        }

        return 0;
    }

    /// <summary>Revokes a key of the workspace named by its prefix or id; exit 1 with one line when there is no such key.</summary>
    private static async Task<int> RevokeKeyAsync(WebApplication app, string workspaceName, string prefixOrId)
    {
        await app.Services.PrepareDatabaseAsync(app.Configuration.GetValue("Database:MigrateOnStartup", true));
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<OpsmeterDbContext>();
        var workspace = await CreateApiKey.FindWorkspaceAsync(db, workspaceName, CancellationToken.None);
        if (workspace is null)
        {
            await Console.Error.WriteLineAsync($"No workspace '{workspaceName}' (by name or id).");
            return 1;
        }

        var byId = Guid.TryParse(prefixOrId, out var id);
        var matches = await db.ApiKeys.AsNoTracking()
            .Where(k => k.WorkspaceId == workspace.Id && (byId ? k.Id == id : k.Prefix == prefixOrId))
            .Select(k => new { k.Id, k.RevokedAt }).ToListAsync();
        // A chosen (bootstrap) key's display prefix is a few characters and may repeat: then the one still active is meant.
        if (matches.Count > 1 && matches.Count(k => k.RevokedAt is null) == 1)
        {
            matches = [.. matches.Where(k => k.RevokedAt is null)];
        }

        if (matches.Count != 1)
        {
            await Console.Error.WriteLineAsync(matches.Count == 0
                ? $"No key '{prefixOrId}' in workspace '{workspace.Name}'."
                : $"{matches.Count} keys of workspace '{workspace.Name}' have the prefix '{prefixOrId}': revoke by id (see apikey list).");
            return 1;
        }

        var (outcome, key) = await RevokeApiKey.HandleAsync(db, services.GetRequiredService<AuditLog>(), services.GetRequiredService<ApiKeyStore>(),
            services.GetRequiredService<TimeProvider>(), workspace.Id, matches[0].Id, CliActor, CancellationToken.None);
        Console.WriteLine(outcome == RevokeApiKey.Outcome.AlreadyRevoked
            ? $"Key {key!.Prefix} ({Printable(key.Name)}) of workspace '{workspace.Name}' was already revoked at {Minute(key.RevokedAt!.Value)} UTC."
            : $"Revoked key {key!.Prefix} ({Printable(key.Name)}) of workspace '{workspace.Name}'. Running servers refuse it within 30 s.");
        return 0;
    }

    /// <summary>
    /// The <c>--workspace</c> of an <c>apikey list</c> or <c>revoke</c> (default <c>default</c>, like <c>apikey create</c>) and the other
    /// arguments; a null workspace (a usage error) for another option or a <c>--workspace</c> without its value.
    /// </summary>
    private static (string? Workspace, string[] Arguments) WorkspaceAndArguments(string[] options)
    {
        var workspace = "default";
        var arguments = new List<string>();
        for (var i = 0; i < options.Length; i++)
        {
            if (options[i] == "--workspace" && i + 1 < options.Length)
            {
                workspace = options[++i];
            }
            else if (options[i].StartsWith("--", StringComparison.Ordinal))
            {
                return (null, []);
            }
            else
            {
                arguments.Add(options[i]);
            }
        }

        return (workspace, [.. arguments]);
    }

    /// <summary>Who the audit log names for a command: the operating system account that ran it.</summary>
    private static string CliActor => "cli:" + Environment.UserName;

    private static string Minute(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>A name as a terminal shows it: control characters (escape sequences, line breaks) as '?'.</summary>
    private static string Printable(string text) => string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));

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
