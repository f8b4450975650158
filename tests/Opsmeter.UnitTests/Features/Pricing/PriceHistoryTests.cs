using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.UnitTests.Features.Pricing;

/// <summary>
/// The shipped catalog's real price dates (issue 17): each change prices an event from its instant on, the instant
/// before is priced by the old row, moving aliases (<c>gpt-4o</c>, <c>mistral-large-latest</c>) follow the row that
/// carried them at the time, and workspace overrides keep covering what they covered.
/// </summary>
public sealed class PriceHistoryTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 15, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Workspace = Guid.NewGuid();
    private static readonly IReadOnlyList<ModelPrice> Shipped = PriceCatalogSeed.ShippedRows(Now);
    private static readonly PriceCatalog Catalog = Load(Shipped);
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private static readonly DateTimeOffset Gpt4oToAugustSnapshot = Utc(2024, 10, 2);
    private static readonly DateTimeOffset MistralLarge3 = Utc(2025, 12, 2);

    private static PriceCatalog Load(IEnumerable<ModelPrice> rows)
    {
        var catalog = new PriceCatalog();
        catalog.Load(rows);
        return catalog;
    }

    private static DateTimeOffset Utc(int year, int month, int day, int hour = 0) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);

    private static ModelPrice Row(string model, DateTimeOffset from, decimal input, Guid? workspace = null, string provider = "openai",
        params string[] aliases) => new()
    {
        Id = Guid.NewGuid(),
        WorkspaceId = workspace,
        Provider = provider,
        Model = model,
        Aliases = aliases,
        EffectiveFrom = from,
        InputPerMillionUsd = input,
        OutputPerMillionUsd = input * 4,
        Source = "test",
    };

    private static (string? Model, decimal? Input, decimal? Output) Priced(string provider, string model, DateTimeOffset at) =>
        Catalog.Find(Workspace, provider, model, at) is { } p ? (p.Model, p.InputPerMillionUsd, p.OutputPerMillionUsd) : (null, null, null);

    [Fact]
    public void Gpt4o_is_the_May_snapshot_until_it_points_to_the_August_one()
    {
        Assert.Equal(("gpt-4o-2024-05-13", 5m, 15m), Priced("openai", "gpt-4o", Utc(2024, 5, 13)));
        Assert.Equal(("gpt-4o-2024-05-13", 5m, 15m), Priced("openai", "gpt-4o", Gpt4oToAugustSnapshot - Tick));
        Assert.Equal(("gpt-4o", 2.5m, 10m), Priced("openai", "gpt-4o", Gpt4oToAugustSnapshot));
        Assert.Equal(Gpt4oToAugustSnapshot, Catalog.Find(Workspace, "openai", "gpt-4o", Now)?.EffectiveFrom);
    }

    [Theory]
    [InlineData("gpt-4o-2024-08-06")]
    [InlineData("gpt-4o-2024-11-20")]
    public void The_later_gpt4o_snapshots_keep_their_own_price_while_gpt4o_pointed_elsewhere(string snapshot)
    {
        // Not the May snapshot that the alias gpt-4o reached then: a dated name never takes a row of another date.
        Assert.Equal(("gpt-4o", 2.5m, 10m), Priced("openai", snapshot, Gpt4oToAugustSnapshot - Tick));
        Assert.Equal(("gpt-4o", 2.5m, 10m), Priced("openai", snapshot, Now));
    }

    [Fact]
    public void The_May_gpt4o_snapshot_keeps_its_price_after_the_alias_moves_on()
    {
        Assert.Equal(("gpt-4o-2024-05-13", 5m, 15m), Priced("openai", "gpt-4o-2024-05-13", Gpt4oToAugustSnapshot));
        Assert.Equal(("gpt-4o-2024-05-13", 5m, 15m), Priced("openai", "gpt-4o-2024-05-13", Now));
    }

    [Fact]
    public void A_workspace_override_of_gpt4o_covers_its_undated_snapshots_before_and_after_the_alias_moved()
    {
        var overridden = Guid.NewGuid();
        var own = Row("gpt-4o", Utc(2024, 1, 1), 1m, overridden);
        var catalog = Load([.. Shipped, own]);

        foreach (var at in new[] { Utc(2024, 9, 1), Gpt4oToAugustSnapshot - Tick, Gpt4oToAugustSnapshot, Now })
        {
            Assert.Same(own, catalog.Find(overridden, "openai", "gpt-4o", at));
            Assert.Same(own, catalog.Find(overridden, "openai", "gpt-4o-2024-08-06", at));
            // The May snapshot has a price of its own: another model, which the override does not reach.
            Assert.Equal("gpt-4o-2024-05-13", catalog.Find(overridden, "openai", "gpt-4o-2024-05-13", at)?.Model);
        }
    }

    [Fact]
    public void Mistral_large_latest_is_large_2411_until_large_3_then_large_3()
    {
        Assert.Equal(("mistral-large-2411", 2m, 6m), Priced("mistral", "mistral-large-latest", Utc(2025, 6, 1)));
        Assert.Equal(("mistral-large-2411", 2m, 6m), Priced("mistral", "mistral-large-latest", MistralLarge3 - Tick));
        Assert.Equal(("mistral-large-2512", 0.5m, 1.5m), Priced("mistral", "mistral-large-latest", MistralLarge3));
        Assert.Equal(("mistral-large-2512", 0.5m, 1.5m), Priced("mistral", "mistral-large-latest", Now));
        // The dated names keep their own price on both sides.
        Assert.Equal(("mistral-large-2411", 2m, 6m), Priced("mistral", "mistral-large-2411", Now));
        Assert.Equal(("mistral-large-2512", 0.5m, 1.5m), Priced("mistral", "mistral-large-2512", MistralLarge3 - Tick));
    }

    [Fact]
    public void Deepseek_chat_leaves_its_launch_discount_at_16_00_utc()
    {
        var end = Utc(2025, 2, 8, 16);

        Assert.Equal(("deepseek-chat", 0.14m, 0.28m), Priced("deepseek", "deepseek-chat", end - Tick));
        Assert.Equal(("deepseek-chat", 0.27m, 1.1m), Priced("deepseek", "deepseek-chat", end));
        Assert.Equal(("deepseek-chat", 0.14m, 0.28m), Priced("deepseek", "deepseek-v3", Utc(2025, 1, 1)));
    }

    [Fact]
    public void A_row_of_the_name_itself_wins_over_an_alias_of_the_same_day()
    {
        var day = Utc(2025, 1, 1);
        var carrier = Row("house-model-2501", day, 1m, provider: "acme", aliases: "house-model");
        var own = Row("house-model", day, 2m, provider: "acme");

        foreach (var rows in new[] { new[] { carrier, own }, [own, carrier] })
        {
            Assert.Same(own, Load(rows).Find(Workspace, "acme", "house-model", day));
        }
    }

    [Fact]
    public void The_listing_at_a_past_moment_shows_where_each_moving_alias_pointed()
    {
        var august2024 = Catalog.InForceAt(Utc(2024, 8, 1)).Where(p => p.Row.Provider == "openai").ToList();
        var today = Catalog.InForceAt(Now).Where(p => p.Row.Provider is "openai" or "mistral").ToList();
        var november2025 = Catalog.InForceAt(Utc(2025, 11, 1)).Where(p => p.Row.Provider == "mistral").ToList();

        static ListedPrice Standard(List<ListedPrice> rows, string model) =>
            rows.Single(p => p.Row.Model == model && p.Row.ServiceTier == ServiceTiers.Standard);

        // August 2024: gpt-4o is the May snapshot, listed under its own name with gpt-4o as alias; no row says gpt-4o costs 2.5.
        var may = Standard(august2024, "gpt-4o-2024-05-13");
        Assert.Equal(5m, may.Row.InputPerMillionUsd);
        Assert.Equal(["gpt-4o"], may.Aliases);
        Assert.DoesNotContain(august2024, p => p.Row.Model == "gpt-4o" && p.Row.ServiceTier == ServiceTiers.Standard);
        // Today: gpt-4o has its own row again, and the May snapshot no longer lists the alias.
        Assert.Equal(2.5m, Standard(today, "gpt-4o").Row.InputPerMillionUsd);
        Assert.Empty(Standard(today, "gpt-4o-2024-05-13").Aliases);
        Assert.Equal(["mistral-large-latest", "mistral-large-3"], Standard(today, "mistral-large-2512").Aliases);
        Assert.Empty(Standard(today, "mistral-large-2411").Aliases);
        // November 2025: mistral-large-latest is on 2411, so 2512 lists only its other alias.
        Assert.Equal(["mistral-large-latest"], Standard(november2025, "mistral-large-2411").Aliases);
        Assert.Equal(["mistral-large-3"], Standard(november2025, "mistral-large-2512").Aliases);
    }

    [Fact]
    public void Todays_listing_keeps_every_provider_model_and_tier_and_their_aliases()
    {
        // Only moved aliases change the listing: today every row is listed, each with all its aliases, but the rows whose alias moved on.
        var listed = Catalog.InForceAt(Now).ToList();
        var newest = Shipped.GroupBy(p => (p.Provider, p.Model, p.ServiceTier)).Select(g => g.MaxBy(p => p.EffectiveFrom)!).ToList();

        Assert.Equal(newest.Count, listed.Count);
        var trimmed = listed.Where(p => !p.Aliases.SequenceEqual(p.Row.Aliases)).Select(p => p.Row.Model).ToList();
        Assert.Equal(["gpt-4o-2024-05-13", "mistral-large-2411"], trimmed.Order(StringComparer.Ordinal));
    }
}
