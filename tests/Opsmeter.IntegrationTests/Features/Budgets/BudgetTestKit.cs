using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.Web.Features.Incidents;
using static Opsmeter.IntegrationTests.Infrastructure.HttpExtensions;

namespace Opsmeter.IntegrationTests.Features.Budgets;

/// <summary>Events of an exact cost (client-reported, on a model the catalog does not price) and jobs run on a chosen clock.</summary>
internal static class BudgetTestKit
{
    public static async Task IngestCostAsync(TestWorkspace ws, decimal costUsd, DateTimeOffset occurredAt, string endpointTag = "chat",
        string dataMode = "real")
    {
        var response = await ws.Client.PostAsync("/v1/ingest",
            (TestEvent.Costing(costUsd) with { EndpointTag = endpointTag, DataMode = dataMode, OccurredAt = occurredAt }).Content());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task<string> CreateBudgetAsync(TestWorkspace ws, string json)
    {
        var response = await ws.Client.PostAsync("/v1/budgets", Json(json));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var created = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return created.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Evaluates one budget as the job would at <paramref name="now"/>, in a scope of its own.</summary>
    public static async Task<BudgetEvaluation?> EvaluateAtAsync(OpsmeterApp app, string budgetId, DateTimeOffset now)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var job = ActivatorUtilities.CreateInstance<EvaluateBudgetsJob>(scope.ServiceProvider, new FakeTimeProvider(now));
        return await job.EvaluateAsync(Guid.Parse(budgetId), CancellationToken.None);
    }

    public static async Task<IReadOnlyList<Guid>> NotifyAtAsync(OpsmeterApp app, TestWorkspace ws, DateTimeOffset now)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var notifier = ActivatorUtilities.CreateInstance<IncidentNotifier>(scope.ServiceProvider, new FakeTimeProvider(now));
        return await notifier.NotifyDueAsync(ws.Id, CancellationToken.None);
    }

    /// <summary>A UTC midnight two days ago: a whole day in the past, so a test owns its periods whatever the hour.</summary>
    public static DateTimeOffset PastDay() => new(DateTime.UtcNow.Date.AddDays(-2), TimeSpan.Zero);
}
