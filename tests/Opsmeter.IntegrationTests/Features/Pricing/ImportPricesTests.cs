using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Repricing;

namespace Opsmeter.IntegrationTests.Features.Pricing;

/// <summary><c>prices import</c>: only new versions are added, a dry run writes nothing, and what was unpriced gets priced.</summary>
[Collection(SharedApp.Name)]
public sealed class ImportPricesTests(OpsmeterApp app) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("opsmeter-import-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>A small file in LiteLLM's format (prices per token), with the kinds of entries the real one holds.</summary>
    private string LiteLlmFile(decimal importAInputPerToken) => Write("litellm.json", $$"""
        {
          "sample_spec": { "input_cost_per_token": 0, "litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of chat" },
          "opsmeter-import-a": { "input_cost_per_token": {{importAInputPerToken}}, "output_cost_per_token": 2e-06, "litellm_provider": "openai", "mode": "chat" },
          "azure/opsmeter-import-b": { "input_cost_per_token": 3e-06, "output_cost_per_token": 4e-06, "cache_read_input_token_cost": 3e-07,
            "litellm_provider": "azure", "mode": "chat" },
          "opsmeter-import-c": { "input_cost_per_token": 5e-07, "output_cost_per_token": 1.5e-06, "litellm_provider": "openai", "mode": "chat" },
          "gpt-4o": { "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06,
            "litellm_provider": "openai", "mode": "chat" },
          "bedrock/us-east-1/opsmeter-import-d": { "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "litellm_provider": "bedrock", "mode": "chat" },
          "1024-x-1024/opsmeter-image": { "input_cost_per_pixel": 1e-08, "litellm_provider": "openai", "mode": "image_generation" },
          "opsmeter-import-e": { "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "litellm_provider": "nobody-we-price", "mode": "chat" }
        }
        """);

    private string Write(string name, string json)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> ImportAsync(params string[] args) =>
        await OpsmeterProcess.RunAsync(new Dictionary<string, string?> { ["ConnectionStrings__Opsmeter"] = app.ConnectionString }, ["prices", "import", .. args]);

    private Task<List<ModelPrice>> RowsAsync(string modelPrefix) =>
        app.WithDbAsync(db => db.ModelPrices.Where(p => p.WorkspaceId == null && p.Model.StartsWith(modelPrefix)).OrderBy(p => p.Model).ThenBy(p => p.EffectiveFrom).ToListAsync());

    [Fact]
    public async Task A_LiteLLM_file_adds_only_new_versions_a_dry_run_writes_nothing_and_unpriced_events_get_priced()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = "before-import", Model = "opsmeter-import-c", InputTokens = 1_000_000, OutputTokens = 1_000_000,
            OccurredAt = DateTimeOffset.UtcNow.AddHours(-2) }.Content());
        var file = LiteLlmFile(1e-06m);
        var from = DateTimeOffset.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ");

        var dry = await ImportAsync(file, "--dry-run", "--effective-from", from);
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.Contains("added    openai/opsmeter-import-a", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("3 new, 0 changed, 1 unchanged, 4 skipped (dry run: nothing written).", dry.Stdout, StringComparison.Ordinal);
        Assert.Empty(await RowsAsync("opsmeter-import-"));

        var real = await ImportAsync(file, "--effective-from", from);
        Assert.True(real.ExitCode == 0, real.Stderr);
        var rows = await RowsAsync("opsmeter-import-");
        Assert.Equal(["openai/opsmeter-import-a", "azure-openai/opsmeter-import-b", "openai/opsmeter-import-c"], rows.Select(r => $"{r.Provider}/{r.Model}"));
        Assert.Equal((1m, 2m), (rows[0].InputPerMillionUsd, rows[0].OutputPerMillionUsd));
        Assert.Equal((3m, 4m, 0.3m), (rows[1].InputPerMillionUsd, rows[1].OutputPerMillionUsd, rows[1].CachedInputPerMillionUsd));
        var audit = await app.WithDbAsync(db => db.Set<PriceAudit>().Where(a => a.WorkspaceId == null && a.Model.StartsWith("opsmeter-import-")).ToListAsync());
        Assert.Equal(3, audit.Count);
        Assert.All(audit, a => Assert.Equal("imported from litellm.json", a.Reason));

        var again = await ImportAsync(file, "--effective-from", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"));
        Assert.Contains("0 new, 0 changed, 4 unchanged", again.Stdout, StringComparison.Ordinal);

        var cheaper = await ImportAsync(LiteLlmFile(1.5e-06m), "--effective-from", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"));
        Assert.Contains("changed  openai/opsmeter-import-a", cheaper.Stdout, StringComparison.Ordinal);
        Assert.Contains("input 1.5, output 2 (was input 1, output 2", cheaper.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, (await RowsAsync("opsmeter-import-a")).Count); // a new version beside the old, which still prices its past

        // The server picks the new rows up (here at once; a running node within 30 s), and re-pricing covers the unpriced event.
        await app.Services.GetRequiredService<PriceCatalogRefresh>().ReloadAsync(CancellationToken.None);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<RepriceJob>().RunAsync(ws.Id, CancellationToken.None);
            Assert.Equal((1, 2m), (result.Events, result.CostUsd)); // 1M in at 0.5 + 1M out at 1.5
        }
    }

    [Fact]
    public async Task The_projects_own_format_adds_its_versions_once_and_a_bad_file_is_refused_plainly()
    {
        var file = Write("catalog.json", """
            { "catalogVersion": "test", "models": [
              { "provider": "openai", "model": "opsmeter-own-format", "effectiveFrom": "2025-06-01T00:00:00Z", "inputPerMillionUsd": 4,
                "outputPerMillionUsd": 8, "source": "https://example.test/pricing" },
              { "provider": "openai", "model": "opsmeter-own-format", "effectiveFrom": "2025-09-01T00:00:00Z", "inputPerMillionUsd": 2,
                "outputPerMillionUsd": 8, "source": "https://example.test/price-cut" } ] }
            """);

        var first = await ImportAsync(file);
        var second = await ImportAsync(file);
        var bad = await ImportAsync(Write("bad.json", "{ not json"));
        var missing = await ImportAsync(Path.Combine(folder, "nowhere.json"));

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("1 new, 1 changed, 0 unchanged", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("0 new, 0 changed, 2 unchanged", second.Stdout, StringComparison.Ordinal);
        Assert.Equal([4m, 2m], (await RowsAsync("opsmeter-own-format")).Select(r => r.InputPerMillionUsd));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("is not a price list", bad.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", bad.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
    }
}
