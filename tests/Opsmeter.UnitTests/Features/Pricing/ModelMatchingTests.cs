using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.UnitTests.Features.Pricing;

/// <summary>Model and provider matching against the shipped catalog (Catalog/model-prices.json).</summary>
public sealed class ModelMatchingTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 15, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Workspace = Guid.NewGuid();
    private static readonly IReadOnlyList<ModelPrice> Shipped = PriceCatalogSeed.ShippedRows(Now);
    private static readonly PriceCatalog Catalog = Load(Shipped);

    private static readonly string[] CatalogProviders =
        ["openai", "anthropic", "google", "vertex-ai", "azure-openai", "bedrock", "mistral", "deepseek", "groq", "xai", "cohere"];

    private static PriceCatalog Load(IEnumerable<ModelPrice> rows)
    {
        var catalog = new PriceCatalog();
        catalog.Load(rows);
        return catalog;
    }

    private static DateTimeOffset Utc(int year, int month, int day) => new(year, month, day, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A negotiated price (1 and 4 USD per million tokens unless said), the workspace's own or, with no workspace, global.</summary>
    private static ModelPrice Negotiated(Guid? workspace, DateTimeOffset from, string provider = "openai", string model = "gpt-4o",
        decimal input = 1m, decimal output = 4m) => new()
    {
        Id = Guid.NewGuid(),
        WorkspaceId = workspace,
        Provider = provider,
        Model = model,
        EffectiveFrom = from,
        InputPerMillionUsd = input,
        OutputPerMillionUsd = output,
        Source = "negotiated",
    };

    [Theory]
    [InlineData("openai", "GPT-4o", "openai", "gpt-4o")]
    [InlineData("OpenAI", "gpt-4o", "openai", "gpt-4o")]
    [InlineData("openai", "gpt-4o-2024-08-06", "openai", "gpt-4o")]
    [InlineData("openai", "gpt-4o-2024-05-13", "openai", "gpt-4o-2024-05-13")] // the catalog has its own row for this snapshot
    [InlineData("openai", "gpt-4o-mini-2024-07-18", "openai", "gpt-4o-mini")]
    [InlineData("openai", "gpt-4.1", "openai", "gpt-4.1")]
    [InlineData("openai", "gpt-4-1", "openai", "gpt-4.1")]
    [InlineData("openai", "openai/gpt-4o", "openai", "gpt-4o")]
    [InlineData("anthropic", "claude-sonnet-4-5-20250929", "anthropic", "claude-sonnet-4-5")]
    [InlineData("anthropic", "claude-3-5-sonnet-latest", "anthropic", "claude-3-5-sonnet")]
    [InlineData("google", "models/gemini-2.5-pro", "google", "gemini-2.5-pro")]
    [InlineData("azure", "gpt-4o", "azure-openai", "gpt-4o")]
    [InlineData("Azure-OpenAI", "gpt-4o", "azure-openai", "gpt-4o")]
    [InlineData("azure", "o1-pro", "openai", "o1-pro")] // no Azure row: OpenAI's list price applies
    [InlineData("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock", "us.anthropic.claude-sonnet-4-5")] // regional profile: +10 %
    [InlineData("bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "bedrock", "anthropic.claude-sonnet-4-5")]
    [InlineData("bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", "bedrock", "anthropic.claude-sonnet-4")] // no regional premium before 4.5
    [InlineData("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock", "anthropic.claude-3-5-sonnet")]
    [InlineData("bedrock", "amazon.titan-embed-text-v2:0", "bedrock", "amazon.titan-embed-text-v2")]
    [InlineData("bedrock", "amazon.titan-embed-text-v1", "bedrock", "amazon.titan-embed-text-v1")]
    public void Sent_names_match_the_expected_catalog_row(string provider, string model, string expectedProvider, string expectedModel)
    {
        var price = Catalog.Find(Workspace, provider, model, Now);

        Assert.NotNull(price);
        Assert.Equal(expectedProvider, price.Provider);
        Assert.Equal(expectedModel, price.Model);
    }

    [Fact]
    public void Dots_and_dashes_reach_the_same_row()
    {
        var dotted = Catalog.Find(Workspace, "openai", "gpt-4.1", Now);
        var dashed = Catalog.Find(Workspace, "openai", "gpt-4-1", Now);

        Assert.NotNull(dotted);
        Assert.Same(dotted, dashed);
    }

    [Fact]
    public void Price_history_picks_the_row_in_force_at_the_time()
    {
        // o3: $10/$40 from 2024-01-01, $2/$8 from 2025-06-10.
        var before = Catalog.Find(Workspace, "openai", "o3", Utc(2025, 3, 1));
        var onTheDay = Catalog.Find(Workspace, "openai", "o3", Utc(2025, 6, 10));
        var after = Catalog.Find(Workspace, "openai", "o3", Utc(2025, 7, 1));

        Assert.NotNull(before);
        Assert.Equal(Utc(2024, 1, 1), before.EffectiveFrom);
        Assert.Equal(10m, before.InputPerMillionUsd);
        Assert.NotNull(onTheDay);
        Assert.Equal(Utc(2025, 6, 10), onTheDay.EffectiveFrom);
        Assert.NotNull(after);
        Assert.Equal(Utc(2025, 6, 10), after.EffectiveFrom);
        Assert.Equal(2m, after.InputPerMillionUsd);
        Assert.Equal(8m, after.OutputPerMillionUsd);
    }

    [Theory]
    [InlineData("openai", "gpt-99-ultra")]
    [InlineData("nobody", "gpt-4o")]
    public void Unknown_model_or_provider_has_no_price(string provider, string model) =>
        Assert.Null(Catalog.Find(Workspace, provider, model, Now));

    [Fact]
    public void A_time_before_every_row_has_no_price() =>
        Assert.Null(Catalog.Find(Workspace, "openai", "gpt-4o", Utc(2023, 12, 31)));

    [Fact]
    public void A_name_priced_before_a_price_change_is_priced_by_the_new_rows_after_it()
    {
        var catalog = Load(Shipped);
        var before = catalog.Find(Workspace, "openai", "gpt-4o", Now);
        var first = Enumerable.Range(0, 3).Select(_ => catalog.Find(Workspace, "acme", "house-model", Now)).ToList();
        var own = Negotiated(Workspace, Utc(2024, 1, 1));
        var house = Negotiated(null, Utc(2024, 1, 1), "acme", "house-model", input: 0.5m, output: 1m);

        catalog.Load([.. Shipped, own, house]);

        Assert.Equal(2.5m, before?.InputPerMillionUsd);
        Assert.All(first, Assert.Null);
        Assert.Same(own, catalog.Find(Workspace, "openai", "gpt-4o", Now));
        Assert.Same(house, catalog.Find(Workspace, "acme", "house-model", Now));
    }

    [Fact]
    public void A_workspace_override_wins_for_its_workspace_only()
    {
        var overridden = Guid.NewGuid();
        var own = Negotiated(overridden, Utc(2024, 1, 1));
        var catalog = Load([.. Shipped, own]);

        var forOwner = catalog.Find(overridden, "openai", "gpt-4o", Now);
        var forOwnerSnapshot = catalog.Find(overridden, "openai", "gpt-4o-2024-08-06", Now);
        var forOwnerPricedSnapshot = catalog.Find(overridden, "openai", "gpt-4o-2024-05-13", Now);
        var forOwnerOnAzure = catalog.Find(overridden, "azure", "gpt-4o", Now);
        var forOthers = catalog.Find(Guid.NewGuid(), "openai", "gpt-4o", Now);

        Assert.Same(own, forOwner);
        Assert.Same(own, forOwnerSnapshot);
        // A snapshot with its own global price, and another provider's own row, are other models: the override does not reach them.
        Assert.Equal(("gpt-4o-2024-05-13", (Guid?)null), (forOwnerPricedSnapshot?.Model, forOwnerPricedSnapshot?.WorkspaceId));
        Assert.Equal("azure-openai", forOwnerOnAzure?.Provider);
        Assert.NotNull(forOthers);
        Assert.Null(forOthers.WorkspaceId);
        Assert.Equal(2.5m, forOthers.InputPerMillionUsd);
    }

    [Fact]
    public void A_workspace_override_not_yet_in_force_leaves_the_global_price()
    {
        var overridden = Guid.NewGuid();
        var own = Negotiated(overridden, Utc(2025, 1, 1));
        var catalog = Load([.. Shipped, own]);

        var early = catalog.Find(overridden, "openai", "gpt-4o", Utc(2024, 6, 1));

        Assert.NotNull(early);
        Assert.Null(early.WorkspaceId);
        Assert.Same(own, catalog.Find(overridden, "openai", "gpt-4o", Utc(2025, 6, 1)));
    }

    [Fact]
    public void Shipped_catalog_is_large_and_covers_the_eleven_providers()
    {
        Assert.True(Shipped.Count >= 150, $"only {Shipped.Count} rows");
        Assert.Equal(Shipped.Count, Catalog.Count);
        var providers = Shipped.Select(p => p.Provider).ToHashSet(StringComparer.Ordinal);
        Assert.All(CatalogProviders, p => Assert.Contains(p, providers));
        Assert.All(Shipped, p => Assert.Contains(p.Provider, CatalogProviders));
        Assert.All(Shipped, p => Assert.Null(p.WorkspaceId));
    }

    [Fact]
    public void Shipped_rows_are_unique_per_provider_model_and_date()
    {
        var duplicates = Shipped
            .GroupBy(p => (p.Provider, p.Model, p.ServiceTier, p.EffectiveFrom))
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key.Provider}/{g.Key.Model}/{g.Key.ServiceTier}@{g.Key.EffectiveFrom:O}")
            .ToList();

        Assert.Empty(duplicates);
        Assert.Equal(Shipped.Count, Shipped.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public void Shipped_prices_are_never_negative()
    {
        var negative = Shipped
            .Where(p => new[]
            {
                p.InputPerMillionUsd, p.OutputPerMillionUsd, p.CachedInputPerMillionUsd, p.CacheWritePerMillionUsd,
                p.CacheWrite1hPerMillionUsd, p.ReasoningPerMillionUsd, p.LongContextInputPerMillionUsd, p.LongContextOutputPerMillionUsd,
                p.LongContextCachedInputPerMillionUsd, p.LongContextCacheWritePerMillionUsd, p.LongContextCacheWrite1hPerMillionUsd,
            }.Any(price => price < 0) || p.LongContextThresholdTokens <= 0)
            .Select(p => $"{p.Provider}/{p.Model}")
            .ToList();

        Assert.Empty(negative);
    }

    [Fact]
    public void Every_shipped_row_is_found_by_its_own_name_and_aliases()
    {
        var failures = new List<string>();
        foreach (var row in Shipped.Where(p => p.ServiceTier == ServiceTiers.Standard))
        {
            foreach (var name in row.Aliases.Prepend(row.Model))
            {
                var found = Catalog.Find(Workspace, row.Provider, name, row.EffectiveFrom);
                if (found is null || found.Id != row.Id)
                {
                    failures.Add($"{row.Provider}/{name}@{row.EffectiveFrom:yyyy-MM-dd} → {(found is null ? "null" : $"{found.Provider}/{found.Model}@{found.EffectiveFrom:yyyy-MM-dd}")}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void Every_shipped_tier_row_is_found_through_its_standard_row()
    {
        foreach (var row in Shipped.Where(p => p.ServiceTier != ServiceTiers.Standard))
        {
            var standard = Catalog.Find(Workspace, row.Provider, row.Model, row.EffectiveFrom);
            Assert.NotNull(standard);
            Assert.Equal(row.Id, Catalog.InTier(standard, row.ServiceTier, row.EffectiveFrom)?.Row.Id);
        }
    }
}
