using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Pricing;

/// <summary>What an import found: each line says one row's fate, in words an operator reads.</summary>
internal sealed record PriceImportResult(IReadOnlyList<string> Added, IReadOnlyList<string> Changed, int Unchanged, int Skipped, bool DryRun);

/// <summary>
/// <c>prices import FILE [--dry-run] [--effective-from INSTANT] [--all-providers]</c>: adds the global catalog's new price
/// versions from a file, in the project's own format (Catalog/model-prices.json: explicit versions, each added unless its
/// id is already there) or LiteLLM's <c>model_prices_and_context_window.json</c> (current prices per token, no dates: a
/// model whose price differs from the one in force gets a new version from <c>--effective-from</c>, default now). Nothing
/// is overwritten; every added row is audited; the dry run writes nothing. Events stored unpriced that the new rows
/// cover are re-priced by <c>pricing:reprice</c>.
/// </summary>
internal static class ImportPrices
{
    private const decimal PerMillion = 1_000_000m;
    private static readonly string[] PricedModes = ["chat", "completion", "responses", "embedding"];

    public static async Task<PriceImportResult> RunAsync(OpsmeterDbContext db, AuditLog audit, PriceCatalogRefresh refresh, IPriceChangeHandler changes,
        TimeProvider clock, string path, bool dryRun, DateTimeOffset? effectiveFrom, bool allProviders, string actor, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var stream = File.OpenRead(path);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
        var global = await db.ModelPrices.AsNoTracking().Where(p => p.WorkspaceId == null).ToListAsync(ct);
        var (candidates, skipped) = document.RootElement.TryGetProperty("models", out _)
            ? (OwnFormat(document.RootElement, now), 0)
            : LiteLlm(document.RootElement, now, effectiveFrom ?? now, allProviders ? null : [.. global.Select(p => p.Provider).Distinct()], Path.GetFileName(path));

        var inForce = new PriceCatalog();
        inForce.Load(global.Where(p => p.RetiredAt is null));
        var known = global.Select(p => p.Id).ToHashSet();
        var (added, changed, unchanged) = (new List<string>(), new List<string>(), 0);
        var rows = new List<(ModelPrice Row, string? Before)>();
        var addedHere = new Dictionary<(string, string), ModelPrice>(); // a file's later version compares with its earlier one
        foreach (var row in candidates.OrderBy(r => r.EffectiveFrom))
        {
            var current = inForce.Find(Guid.Empty, row.Provider, row.Model, row.EffectiveFrom);
            if (addedHere.TryGetValue((row.Provider, row.Model), out var earlier) && (current is null || earlier.EffectiveFrom >= current.EffectiveFrom))
            {
                current = earlier;
            }

            if (known.Contains(row.Id) || (row.Source.StartsWith("litellm", StringComparison.Ordinal) && current is not null && SamePrices(current, row)))
            {
                unchanged++;
                continue;
            }

            rows.Add((row, current is null ? null : PriceOverrides.Describe(current)));
            known.Add(row.Id);
            addedHere[(row.Provider, row.Model)] = row;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{row.Provider}/{row.Model} from {row.EffectiveFrom:yyyy-MM-dd HH:mm}Z: input {Money.Normalize(row.InputPerMillionUsd)}, output {Money.Normalize(row.OutputPerMillionUsd)}");
            if (current is null)
            {
                added.Add(line + " (new)");
            }
            else
            {
                changed.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{line} (was input {Money.Normalize(current.InputPerMillionUsd)}, output {Money.Normalize(current.OutputPerMillionUsd)}: {current.Provider}/{current.Model})"));
            }
        }

        if (!dryRun && rows.Count > 0)
        {
            db.ModelPrices.AddRange(rows.Select(r => r.Row));
            db.AddRange(rows.Select(r => new PriceAudit
            {
                Id = Guid.CreateVersion7(now), WorkspaceId = null, PriceId = r.Row.Id, Action = "added", Provider = r.Row.Provider, Model = r.Row.Model,
                Actor = actor, At = now, Before = r.Before ?? "no price", After = PriceOverrides.Describe(r.Row), Reason = $"imported from {Path.GetFileName(path)}",
            }));
            audit.Add(null, AuditActions.GlobalPriceVersion, $"import of {Path.GetFileName(path)}",
                after: $"{added.Count} models added, {changed.Count} new versions", actor: actor);
            await db.SaveChangesAsync(ct);
            await refresh.ReloadAsync(ct);
            await changes.GlobalPricesAddedAsync(ct);
        }

        return new PriceImportResult(added, changed, unchanged, skipped, dryRun);
    }

    private static bool SamePrices(ModelPrice a, ModelPrice b) =>
        a.InputPerMillionUsd == b.InputPerMillionUsd && a.OutputPerMillionUsd == b.OutputPerMillionUsd
        && (b.CachedInputPerMillionUsd is null || a.CachedInputPerMillionUsd == b.CachedInputPerMillionUsd)
        && (b.CacheWritePerMillionUsd is null || a.CacheWritePerMillionUsd == b.CacheWritePerMillionUsd);

    /// <summary>The project's catalog format: each row an explicit version.</summary>
    private static List<ModelPrice> OwnFormat(JsonElement root, DateTimeOffset now) =>
        [.. (root.Deserialize(SeedJsonContext.Default.SeedFile)?.Models ?? []).Select(m => m.ToPrice(now))];

    /// <summary>
    /// LiteLLM's list: one entry per model name, prices per token. Kept: text models (chat, completion, responses,
    /// embedding) with an input price, named plainly or as <c>provider/model</c>, of providers the catalog already has
    /// unless <paramref name="providers"/> is null. Skipped: images, audio, regional keys (<c>bedrock/us-east-1/…</c>), the rest.
    /// </summary>
    private static (List<ModelPrice> Rows, int Skipped) LiteLlm(JsonElement root, DateTimeOffset now, DateTimeOffset from, IReadOnlyCollection<string>? providers,
        string file)
    {
        var rows = new List<ModelPrice>();
        var skipped = 0;
        foreach (var entry in root.EnumerateObject())
        {
            var e = entry.Value;
            var parts = entry.Name.Split('/');
            if (e.ValueKind != JsonValueKind.Object || parts.Length > 2
                || !(e.TryGetProperty("mode", out var mode) && PricedModes.Contains(mode.GetString()))
                || PerToken(e, "input_cost_per_token") is not { } input
                || !e.TryGetProperty("litellm_provider", out var litellmProvider) || litellmProvider.GetString() is not { Length: > 0 } providerName)
            {
                skipped++;
                continue;
            }

            var provider = ProviderOf(providerName);
            var model = parts[^1];
            if ((providers is not null && !providers.Contains(provider)) || model.Length > 128)
            {
                skipped++;
                continue;
            }

            var threshold = PerToken(e, "input_cost_per_token_above_200k_tokens") is not null ? 200_000L
                : PerToken(e, "input_cost_per_token_above_128k_tokens") is not null ? 128_000L : (long?)null;
            var above = threshold is { } t ? $"_above_{t / 1000}k_tokens" : null;
            rows.Add(new ModelPrice
            {
                Id = PriceCatalogSeed.StableId(provider, model, from),
                Provider = provider,
                Model = model,
                Kind = mode.GetString() == "embedding" ? "embedding" : "chat",
                EffectiveFrom = from,
                InputPerMillionUsd = input,
                OutputPerMillionUsd = PerToken(e, "output_cost_per_token") ?? 0m,
                CachedInputPerMillionUsd = PerToken(e, "cache_read_input_token_cost"),
                CacheWritePerMillionUsd = PerToken(e, "cache_creation_input_token_cost"),
                CacheWrite1hPerMillionUsd = PerToken(e, "cache_creation_input_token_cost_above_1hr"),
                ReasoningPerMillionUsd = PerToken(e, "output_cost_per_reasoning_token"),
                LongContextThresholdTokens = threshold,
                LongContextInputPerMillionUsd = above is null ? null : PerToken(e, "input_cost_per_token" + above),
                LongContextOutputPerMillionUsd = above is null ? null : PerToken(e, "output_cost_per_token" + above),
                LongContextCachedInputPerMillionUsd = above is null ? null : PerToken(e, "cache_read_input_token_cost" + above),
                Source = $"litellm {file}",
                CreatedAt = now,
            });
        }

        return (rows, skipped);
    }

    /// <summary>A per-token price as USD per million tokens, read from the JSON number's text (never through a double).</summary>
    private static decimal? PerToken(JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
        && decimal.TryParse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var perToken) && perToken >= 0
            ? Money.Normalize(perToken * PerMillion)
            : null;

    /// <summary>LiteLLM's provider names onto the catalog's.</summary>
    private static string ProviderOf(string litellm) => litellm switch
    {
        _ when litellm.StartsWith("vertex_ai", StringComparison.Ordinal) => "vertex-ai",
        "text-completion-openai" => "openai",
        "bedrock_converse" => "bedrock",
        "text-completion-codestral" or "codestral" => "mistral",
        _ => Providers.Normalize(litellm),
    };
}
