using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Opsmeter.IntegrationTests.Infrastructure;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Budgets;

[Collection(SharedApp.Name)]
public sealed class BudgetApiTests(OpsmeterApp app)
{
    [Fact]
    public async Task A_budget_is_created_with_defaults_read_replaced_and_deleted()
    {
        var ws = await app.CreateWorkspaceAsync();
        var id = await BudgetTestKit.CreateBudgetAsync(ws, """{"name":"all spend","limitUsd":100}""");

        var created = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/budgets/{id}");
        Assert.Equal("workspace", created.GetProperty("scope").GetProperty("dimension").GetString());
        Assert.Equal("monthly", created.GetProperty("period").GetString());
        Assert.Equal("UTC", created.GetProperty("timeZone").GetString());
        Assert.Equal([0.5m, 0.8m], created.GetProperty("warningThresholds").EnumerateArray().Select(t => t.GetDecimal()));
        Assert.Equal("warn", created.GetProperty("onExceeded").GetString());
        Assert.Equal(["real"], created.GetProperty("dataModes").EnumerateArray().Select(m => m.GetString()));

        var replaced = await ws.Client.PutAsync($"/v1/budgets/{id}", Json("""
            {"name":"support weekly","scope":{"dimension":"endpointTag","value":"support"},"period":"weekly","timeZone":"Europe/Berlin",
             "limitUsd":25.5,"warningThresholds":[0.9,0.7],"onExceeded":"clamp","maxOutputTokens":300,"dataModes":["real","test"]}
            """));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var list = await ws.Client.GetFromJsonAsync<JsonElement>("/v1/budgets");
        var only = Assert.Single(list.EnumerateArray());
        Assert.Equal("support", only.GetProperty("scope").GetProperty("value").GetString());
        Assert.Equal([0.7m, 0.9m], only.GetProperty("warningThresholds").EnumerateArray().Select(t => t.GetDecimal()));
        Assert.Equal(300, only.GetProperty("maxOutputTokens").GetInt32());

        var status = await ws.Client.GetFromJsonAsync<JsonElement>($"/v1/budgets/{id}/status");
        Assert.Equal("ok", status.GetProperty("state").GetString());
        Assert.Equal(25.5m, status.GetProperty("limitUsd").GetDecimal());
        // A week in Berlin starts on a Monday at local midnight: 22:00 or 23:00 UTC on the Sunday.
        var start = status.GetProperty("periodStart").GetDateTimeOffset();
        Assert.Equal(DayOfWeek.Sunday, start.UtcDateTime.DayOfWeek);
        Assert.Contains(start.UtcDateTime.Hour, new[] { 22, 23 });

        Assert.Equal(HttpStatusCode.NoContent, (await ws.Client.DeleteAsync($"/v1/budgets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ws.Client.GetAsync($"/v1/budgets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ws.Client.DeleteAsync($"/v1/budgets/{id}")).StatusCode);
    }

    [Fact]
    public async Task Invalid_budgets_answer_field_errors_and_store_nothing()
    {
        var ws = await app.CreateWorkspaceAsync();
        var response = await ws.Client.PostAsync("/v1/budgets", Json("""
            {"name":"","scope":{"dimension":"team","value":"x"},"period":"yearly","timeZone":"Mars/Olympus","limitUsd":-1,
             "warningThresholds":[1.5],"onExceeded":"fallback","dataModes":["prod"]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "name", "scope.dimension", "period", "timeZone", "limitUsd", "warningThresholds[0]", "fallbackModel", "dataModes" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }

        var clamp = await ws.Client.PostAsync("/v1/budgets", Json("""{"name":"c","limitUsd":5,"onExceeded":"clamp","scope":{"dimension":"userId"}}"""));
        var clampErrors = (await clamp.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(clampErrors.TryGetProperty("maxOutputTokens", out _));
        Assert.True(clampErrors.TryGetProperty("scope.value", out _));

        // The columns keep 4 decimals for thresholds and 6 for the limit: more is refused, never silently rounded.
        var precise = await ws.Client.PostAsync("/v1/budgets", Json("""{"name":"p","limitUsd":0.0000001,"warningThresholds":[0.33333]}"""));
        var preciseErrors = (await precise.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(preciseErrors.TryGetProperty("limitUsd", out _) && preciseErrors.TryGetProperty("warningThresholds[0]", out _), preciseErrors.ToString());
        Assert.Empty((await ws.Client.GetFromJsonAsync<JsonElement>("/v1/budgets")).EnumerateArray());
    }

    [Fact]
    public async Task Budgets_need_the_admin_scope_and_stay_in_their_workspace()
    {
        var owner = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        var ingestOnly = await app.CreateWorkspaceAsync("ingest");
        var id = await BudgetTestKit.CreateBudgetAsync(owner, """{"name":"mine","limitUsd":10}""");

        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.Client.GetAsync("/v1/budgets")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Client.GetAsync($"/v1/budgets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Client.PutAsync($"/v1/budgets/{id}", Json("""{"name":"x","limitUsd":1}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Client.DeleteAsync($"/v1/budgets/{id}")).StatusCode);
        Assert.Empty((await other.Client.GetFromJsonAsync<JsonElement>("/v1/budgets")).EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync($"/v1/budgets/{id}")).StatusCode);
    }
}
