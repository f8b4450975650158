using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.ApiKeys;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Pricing;

/// <summary>A workspace's own prices: they win for that workspace only, from their effective instant, and leave an audit trail.</summary>
[Collection(SharedApp.Name)]
public sealed class PriceOverrideTests(OpsmeterApp app)
{
    private static readonly DateTimeOffset Start = new(DateTime.UtcNow.Date.AddDays(-1), TimeSpan.Zero);

    private static string Override(string model, decimal input, decimal output, DateTimeOffset from, string provider = "openai") =>
        $$"""{"provider":"{{provider}}","model":"{{model}}","inputPerMillionUsd":{{input}},"outputPerMillionUsd":{{output}},"effectiveFrom":"{{from:O}}","reason":"negotiated rate"}""";

    private static async Task<JsonElement> IngestAsync(TestWorkspace ws, TestEvent e)
    {
        var response = await ws.Client.PostAsync("/v1/ingest", e.Content());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> CreateAsync(TestWorkspace ws, string json)
    {
        var response = await ws.Client.PostAsync("/v1/pricing/overrides", Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task An_override_prices_its_workspace_from_its_effective_instant_and_no_other_workspace()
    {
        var mine = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var created = await CreateAsync(mine, Override("gpt-4o", 1m, 2m, Start));
        var e = new TestEvent { Model = "gpt-4o", InputTokens = 1_000_000, OutputTokens = 1_000_000, OccurredAt = Start };

        var atTheInstant = await IngestAsync(mine, e);
        var justBefore = await IngestAsync(mine, e with { ExternalRequestId = "before", OccurredAt = Start.AddSeconds(-1) });
        var elsewhere = await IngestAsync(other, e);

        Assert.Equal(3m, atTheInstant.GetProperty("costUsd").GetDecimal()); // 1 USD input + 2 USD output, a million tokens each
        Assert.Equal(created.GetProperty("id").GetString(), atTheInstant.GetProperty("pricing").GetProperty("priceId").GetString());
        Assert.Equal(12.5m, justBefore.GetProperty("costUsd").GetDecimal()); // the catalog's gpt-4o: 2.50 + 10.00
        Assert.Equal(12.5m, elsewhere.GetProperty("costUsd").GetDecimal());
        var listed = await mine.Client.GetFromJsonAsync<JsonElement>("/v1/pricing/overrides");
        Assert.Equal(("gpt-4o", "negotiated rate"), (listed[0].GetProperty("model").GetString(), listed[0].GetProperty("reason").GetString()));
        Assert.Equal(0, (await other.Client.GetFromJsonAsync<JsonElement>("/v1/pricing/overrides")).GetArrayLength());
    }

    [Fact]
    public async Task A_model_the_catalog_lacks_is_priced_by_the_override_and_leaves_the_unpriced_list()
    {
        var ws = await app.CreateWorkspaceAsync();
        await IngestAsync(ws, new TestEvent { Model = "house-llama-70b", EndpointTag = "search", OccurredAt = Start.AddHours(1) });
        await IngestAsync(ws, new TestEvent { Model = "house-llama-70b", EndpointTag = "search", OccurredAt = Start.AddHours(2) });
        await IngestAsync(ws, new TestEvent { Model = "house-llama-70b", EndpointTag = "chat", OccurredAt = Start.AddHours(3) });

        var unpriced = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/pricing/unpriced");
        var row = Assert.Single(unpriced.EnumerateArray());
        Assert.Equal(("openai", "house-llama-70b", 3L), (row.GetProperty("provider").GetString(), row.GetProperty("model").GetString(), row.GetProperty("events").GetInt64()));
        Assert.Equal(["search", "chat"], row.GetProperty("topEndpoints").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(Start.AddHours(1), row.GetProperty("firstSeen").GetDateTimeOffset());
        Assert.Equal(0, (await (await app.CreateWorkspaceAsync()).Client.GetFromJsonAsync<JsonElement>("/v1/pricing/unpriced")).GetArrayLength());

        await CreateAsync(ws, Override("house-llama-70b", 0m, 0m, Start));
        var priced = await IngestAsync(ws, new TestEvent { Model = "house-llama-70b", OccurredAt = Start.AddHours(4) });
        Assert.Equal(("priced", 0m), (priced.GetProperty("costStatus").GetString(), priced.GetProperty("costUsd").GetDecimal()));
    }

    [Fact]
    public async Task Retiring_an_override_restores_the_catalog_price_keeps_what_it_priced_and_is_audited()
    {
        var ws = await app.CreateWorkspaceAsync();
        var id = (await CreateAsync(ws, Override("gpt-4o", 1m, 2m, Start))).GetProperty("id").GetString();
        var e = new TestEvent { Model = "gpt-4o", InputTokens = 1_000_000, OutputTokens = 1_000_000, OccurredAt = Start.AddHours(1) };
        var before = await IngestAsync(ws, e);

        var retired = await ws.Client.PostAsync($"/v1/pricing/overrides/{id}/retire", Json("""{"reason":"typed the wrong rate"}"""));
        var again = await ws.Client.PostAsync($"/v1/pricing/overrides/{id}/retire", Json("""{"reason":"twice"}"""));
        var after = await IngestAsync(ws, e with { ExternalRequestId = "after" });

        Assert.Equal(HttpStatusCode.OK, retired.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal((3m, 12.5m), (before.GetProperty("costUsd").GetDecimal(), after.GetProperty("costUsd").GetDecimal()));
        var kept = await app.WithDbAsync(db => db.LlmRequests.SingleAsync(r => r.WorkspaceId == ws.Id && r.ExternalRequestId == e.ExternalRequestId));
        Assert.Equal((3m, Guid.Parse(id!)), (kept.CostUsd, kept.PriceId!.Value));
        var audit = await app.WithDbAsync(db => db.Set<PriceAudit>().Where(a => a.WorkspaceId == ws.Id).OrderBy(a => a.At).ToListAsync());
        Assert.Equal(["added", "retired"], audit.Select(a => a.Action));
        Assert.StartsWith("catalog openai/gpt-4o: input 2.5, output 10", audit[0].Before, StringComparison.Ordinal);
        Assert.StartsWith("override openai/gpt-4o: input 1, output 2", audit[0].After, StringComparison.Ordinal);
        Assert.StartsWith("catalog openai/gpt-4o", audit[1].After, StringComparison.Ordinal);
        Assert.Equal("typed the wrong rate", audit[1].Reason);
        Assert.All(audit, a => Assert.StartsWith("api-key:", a.Actor, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_overrides_are_refused_with_field_errors_and_nothing_is_saved()
    {
        var ws = await app.CreateWorkspaceAsync();
        var stranger = await app.CreateWorkspaceAsync();
        var id = (await CreateAsync(ws, Override("gpt-4o", 1m, 2m, Start))).GetProperty("id").GetString();

        var invalid = await ws.Client.PostAsync("/v1/pricing/overrides",
            Json("""{"provider":"openai","model":"gpt-4o","inputPerMillionUsd":-1,"outputPerMillionUsd":0.123456789}"""));
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        var duplicate = await ws.Client.PostAsync("/v1/pricing/overrides", Json(Override("gpt-4o", 5m, 5m, Start)));
        var notYours = await stranger.Client.PostAsync($"/v1/pricing/overrides/{id}/retire", Json("""{"reason":"mine now"}"""));
        var noReason = await ws.Client.PostAsync($"/v1/pricing/overrides/{id}/retire", Json("{}"));

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.True(errors.TryGetProperty("inputPerMillionUsd", out _) && errors.TryGetProperty("outputPerMillionUsd", out _)
            && errors.TryGetProperty("effectiveFrom", out _) && errors.TryGetProperty("reason", out _), errors.ToString());
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notYours.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => db.ModelPrices.CountAsync(p => p.WorkspaceId == ws.Id)));
        Assert.Null(await app.WithDbAsync(db => db.ModelPrices.Where(p => p.WorkspaceId == ws.Id).Select(p => p.RetiredAt).SingleAsync()));
    }

    [Fact]
    public async Task Overrides_take_an_admin_key_and_the_unpriced_list_a_read_key()
    {
        var ingestOnly = await app.CreateWorkspaceAsync(ApiKeyScopes.Ingest);
        var readOnly = await app.CreateWorkspaceAsync(ApiKeyScopes.Read);

        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.Client.GetAsync("/v1/pricing/overrides")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.Client.PostAsync("/v1/pricing/overrides", Json(Override("gpt-4o", 1m, 1m, Start)))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.Client.GetAsync("/v1/pricing/unpriced")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await readOnly.Client.GetAsync("/v1/pricing/unpriced")).StatusCode);
    }
}

/// <summary><c>GET /v1/pricing/dry-run</c>: what a range would cost under one price row, with nothing written.</summary>
[Collection(SharedApp.Name)]
public sealed class PriceDryRunTests(OpsmeterApp app)
{
    [Fact]
    public async Task A_dry_run_prices_the_ranges_events_of_the_rows_model_under_that_row_and_changes_nothing()
    {
        var ws = await app.CreateWorkspaceAsync();
        var at = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-1), TimeSpan.Zero).AddHours(3);
        foreach (var (id, model) in new[] { ("a", "gpt-4o"), ("b", "gpt-4o"), ("c", "gpt-4o-2024-08-06"), ("d", "gpt-4o-mini") })
        {
            var e = new TestEvent { ExternalRequestId = id, Model = model, InputTokens = 1_000_000, OutputTokens = 1_000_000, OccurredAt = at };
            Assert.Equal(HttpStatusCode.OK, (await ws.Client.PostAsync("/v1/ingest", e.Content())).StatusCode);
        }

        // A negotiated rate that starts next year: today's events stay at the catalog's price, the dry run shows the difference.
        var created = await ws.Client.PostAsync("/v1/pricing/overrides", Json(
            """{"provider":"openai","model":"gpt-4o","inputPerMillionUsd":1,"outputPerMillionUsd":2,"effectiveFrom":"2099-01-01T00:00:00Z","reason":"offer"}"""));
        var priceId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var range = $"from={Uri.EscapeDataString(at.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(at.AddDays(1).ToString("O"))}";

        var report = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/pricing/dry-run?priceId={priceId}&{range}");

        Assert.Equal(3, report.GetProperty("events").GetInt64()); // gpt-4o and its dated snapshot, not gpt-4o-mini
        Assert.Equal(37.5m, report.GetProperty("currentCostUsd").GetDecimal()); // 3 × (2.50 + 10.00)
        Assert.Equal(9m, report.GetProperty("costUsdUnderPrice").GetDecimal()); // 3 × (1 + 2)
        Assert.Equal(-28.5m, report.GetProperty("differenceUsd").GetDecimal());
        Assert.Equal(37.5m + 0.75m, await app.WithDbAsync(db => db.LlmRequests.Where(r => r.WorkspaceId == ws.Id).SumAsync(r => r.CostUsd)));

        var stranger = await app.CreateWorkspaceAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync($"/v1/pricing/dry-run?priceId={priceId}&{range}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ws.Client.GetAsync($"/v1/pricing/dry-run?priceId={priceId}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ws.Client.GetAsync(
            $"/v1/pricing/dry-run?priceId={priceId}&from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")).StatusCode);
    }
}

/// <summary>The refresh loop of every node: a row another node added is noticed by the one-row check, and loaded.</summary>
[Collection(SharedApp.Name)]
public sealed class PriceCatalogRefreshTests(OpsmeterApp app)
{
    [Fact]
    public async Task A_price_added_by_another_node_is_noticed_and_loaded()
    {
        var ws = await app.CreateWorkspaceAsync();
        var refresh = app.Services.GetRequiredService<PriceCatalogRefresh>();
        await refresh.ReloadAsync(CancellationToken.None);
        Assert.False(await refresh.ChangedAsync(CancellationToken.None));

        // What another node's POST /v1/pricing/overrides leaves in the table, without this node's catalog knowing.
        await app.WithDbAsync(async db =>
        {
            db.ModelPrices.Add(new ModelPrice
            {
                Id = Guid.CreateVersion7(), WorkspaceId = ws.Id, Provider = "openai", Model = "other-node-model", EffectiveFrom = DateTimeOffset.UtcNow.AddDays(-1),
                InputPerMillionUsd = 1, OutputPerMillionUsd = 1, Source = "override", CreatedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });

        Assert.True(await refresh.ChangedAsync(CancellationToken.None));
        await refresh.ReloadAsync(CancellationToken.None);
        Assert.False(await refresh.ChangedAsync(CancellationToken.None));
        var priced = await (await ws.Client.PostAsync("/v1/ingest", new TestEvent { Model = "other-node-model" }.Content())).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("priced", priced.GetProperty("costStatus").GetString());
    }
}
