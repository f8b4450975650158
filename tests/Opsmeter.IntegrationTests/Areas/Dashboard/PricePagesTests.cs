using System.Net;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Areas.Dashboard;

[Collection(SharedApp.Name)]
public sealed class PricePagesTests(OpsmeterApp app)
{
    private static readonly DateTimeOffset Start = new(DateTime.UtcNow.Date.AddDays(-1), TimeSpan.Zero);

    [Fact]
    public async Task An_owner_prices_an_unpriced_model_from_its_row_retires_it_and_downloads_the_changes()
    {
        var ws = await app.CreateWorkspaceAsync();
        await ws.Client.PostAsync("/v1/ingest", new TestEvent { Model = "house-llama-70b", EndpointTag = "search", OccurredAt = Start.AddHours(2) }.Content());
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);

        var (_, overview) = await owner.GetAsync("/Dashboard?range=7d");
        Assert.Contains("href=\"/Dashboard/Prices#unpriced\"", overview, StringComparison.Ordinal);
        var (_, list) = await owner.GetAsync("/Dashboard/Prices");
        Assert.Contains("data-unpriced=\"openai/house-llama-70b\"", list, StringComparison.Ordinal);
        var (_, form) = await owner.GetAsync("/Dashboard/Prices?provider=openai&model=house-llama-70b");
        Assert.Contains("value=\"house-llama-70b\"", form, StringComparison.Ordinal);
        Assert.Contains($"value=\"{Start.AddHours(2):yyyy-MM-ddTHH:mm:ss}", form, StringComparison.Ordinal); // from its first unpriced event

        var saved = await owner.PostFormAsync("/Dashboard/Prices?handler=Add", new()
        {
            ["Form.Provider"] = "openai", ["Form.Model"] = "house-llama-70b", ["Form.InputPerMillionUsd"] = "0.6", ["Form.OutputPerMillionUsd"] = "1.2",
            ["Form.EffectiveFromUtc"] = Start.ToString("yyyy-MM-ddTHH:mm:ss"), ["Form.Reason"] = "our GPUs",
        }, formPage: "/Dashboard/Prices");
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var price = await app.WithDbAsync(db => db.ModelPrices.SingleAsync(p => p.WorkspaceId == ws.Id));
        Assert.Equal((0.6m, 1.2m, Start, "our GPUs"), (price.InputPerMillionUsd, price.OutputPerMillionUsd, price.EffectiveFrom, price.Reason));
        Assert.Contains("@example.test", price.CreatedBy, StringComparison.Ordinal);

        var retired = await owner.PostFormAsync($"/Dashboard/Prices?handler=Retire&id={price.Id}", new() { ["reason"] = "wrong GPU count" },
            formPage: "/Dashboard/Prices");
        Assert.Equal(HttpStatusCode.Redirect, retired.StatusCode);
        var (_, after) = await owner.GetAsync("/Dashboard/Prices");
        Assert.Contains("retired", after, StringComparison.Ordinal);
        Assert.Contains("data-audit=\"retired\"", after, StringComparison.Ordinal);
        var (csvResponse, csv) = await owner.GetAsync("/Dashboard/Prices?handler=AuditCsv");
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        Assert.Equal(3, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the header, the addition, the retirement
        Assert.Contains("wrong GPU count", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_form_shows_field_errors_and_a_member_reads_but_cannot_add()
    {
        var ws = await app.CreateWorkspaceAsync();
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var member = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member);

        var invalid = await owner.PostFormAsync("/Dashboard/Prices?handler=Add", new()
        {
            ["Form.Provider"] = "openai", ["Form.Model"] = "x", ["Form.InputPerMillionUsd"] = "-1", ["Form.OutputPerMillionUsd"] = "1",
        }, formPage: "/Dashboard/Prices");
        var html = await invalid.Content.ReadAsStringAsync();
        var (_, memberView) = await member.GetAsync("/Dashboard/Prices?q=gpt-4o");
        var refused = await member.PostFormAsync("/Dashboard/Prices?handler=Add", new()
        {
            ["Form.Provider"] = "openai", ["Form.Model"] = "x", ["Form.InputPerMillionUsd"] = "1", ["Form.OutputPerMillionUsd"] = "1",
            ["Form.EffectiveFromUtc"] = Start.ToString("yyyy-MM-ddTHH:mm:ss"), ["Form.Reason"] = "member",
        }, formPage: "/Dashboard/Prices");

        Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
        Assert.Contains("inputPerMillionUsd is USD per million", html, StringComparison.Ordinal);
        Assert.Contains("reason is required", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Save price", memberView, StringComparison.Ordinal);
        Assert.Contains("data-catalog=\"openai/gpt-4o\"", memberView, StringComparison.Ordinal);
        Assert.StartsWith("/account/denied", refused.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await app.WithDbAsync(db => db.ModelPrices.CountAsync(p => p.WorkspaceId == ws.Id)));
    }

    [Fact]
    public async Task Only_an_instance_administrator_adds_a_catalog_version_and_it_prices_every_workspace()
    {
        var ws = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        await other.Client.PostAsync("/v1/ingest", new TestEvent { ExternalRequestId = "waiting", Model = "opsmeter-global-model", OccurredAt = Start.AddHours(1) }.Content());
        using var owner = await DashboardUser.SignedInAsync(app, ws.Id);
        using var administrator = await DashboardUser.SignedInAsync(app, ws.Id, WorkspaceRoles.Member, instanceAdmin: true);
        var fields = new Dictionary<string, string>
        {
            ["GlobalForm.Provider"] = "openai", ["GlobalForm.Model"] = "opsmeter-global-model", ["GlobalForm.InputPerMillionUsd"] = "1",
            ["GlobalForm.OutputPerMillionUsd"] = "3", ["GlobalForm.EffectiveFromUtc"] = Start.ToString("yyyy-MM-ddTHH:mm:ss"),
            ["GlobalForm.Reason"] = "https://example.test/pricing",
        };

        var (_, ownerView) = await owner.GetAsync("/Dashboard/Prices");
        var refused = await owner.PostFormAsync("/Dashboard/Prices?handler=AddGlobal", fields, formPage: "/Dashboard/Prices");
        Assert.DoesNotContain("Add a catalog version", ownerView, StringComparison.Ordinal);
        Assert.StartsWith("/account/denied", refused.Headers.Location!.PathAndQuery, StringComparison.OrdinalIgnoreCase);
        Assert.False(await app.WithDbAsync(db => db.ModelPrices.AnyAsync(p => p.Model == "opsmeter-global-model")));

        var saved = await administrator.PostFormAsync("/Dashboard/Prices?handler=AddGlobal", fields, formPage: "/Dashboard/Prices");
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var row = await app.WithDbAsync(db => db.ModelPrices.SingleAsync(p => p.Model == "opsmeter-global-model"));
        Assert.Equal(((Guid?)null, 1m, 3m, "https://example.test/pricing"), (row.WorkspaceId, row.InputPerMillionUsd, row.OutputPerMillionUsd, row.Source));
        var priced = await (await other.Client.PostAsync("/v1/ingest",
            new TestEvent { Model = "opsmeter-global-model", InputTokens = 1_000_000, OutputTokens = 1_000_000, OccurredAt = Start.AddHours(2) }.Content()))
            .Content.ReadAsStringAsync();
        Assert.Contains("\"costUsd\":4", priced, StringComparison.Ordinal); // another workspace, priced by the new version
        var (_, history) = await administrator.GetAsync("/Dashboard/Prices?q=opsmeter-global");
        Assert.Contains("data-catalog=\"openai/opsmeter-global-model\"", history, StringComparison.Ordinal);
    }
}
