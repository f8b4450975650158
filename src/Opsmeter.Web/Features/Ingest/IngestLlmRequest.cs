using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Auth;
using Serilog;

namespace Opsmeter.Web.Features.Ingest;

/// <summary><c>POST /v1/ingest</c> and its Opsmeter.io alias <c>/v1/ingest/llm-request</c>: one event, answered after its commit.</summary>
internal static class IngestLlmRequest
{
    public static async Task<Results<Ok<IngestResponse>, ValidationProblem>> HandleAsync(IngestEventRequest body, ClaimsPrincipal user,
        PriceCatalog catalog, IngestWriter writer, PolicySnapshot policy, RawRetention retention, TimeProvider clock, IDiagnosticContext diagnostics)
    {
        var workspaceId = user.WorkspaceId();
        var (oldest, days) = await retention.OldestAcceptedAsync(workspaceId);
        if (OccurredAtBound.Check(body, oldest, days) is { } tooOld)
        {
            return TypedResults.ValidationProblem(tooOld);
        }

        var priced = PriceEvent.From(body, workspaceId, clock.GetUtcNow(), catalog);
        diagnostics.Set("WorkspaceId", workspaceId);
        diagnostics.Set("ExternalRequestId", priced.Row.ExternalRequestId);

        // Not cancelled with the request: once queued, the event is committed whether or not the client waits.
        var outcomes = await writer.SubmitAsync([priced.Row]);
        return TypedResults.Ok(IngestResponse.From(priced, outcomes[0], catalog, BudgetFlags(policy.For(workspaceId), priced.Row,
            outcomes[0].Duplicate ? 0 : outcomes[0].CostUsd, clock.GetUtcNow())));
    }

    /// <summary>
    /// Whether a budget that counts this event is in warning, or exceeded: its last evaluated spend plus this event's
    /// cost (zero for a duplicate, already counted), so the event that crosses the limit is answered exceeded.
    /// </summary>
    public static (bool Warning, bool Exceeded) BudgetFlags(WorkspacePolicy policy, LlmRequest row, decimal costUsd, DateTimeOffset now)
    {
        var (warning, exceeded) = (false, false);
        foreach (var budget in policy.Budgets)
        {
            if (budget.Applies(dimension => EventValue(row, dimension), row.DataMode))
            {
                var state = budget.StateAt(now, costUsd);
                warning |= state == BudgetRules.Warning;
                exceeded |= state == BudgetRules.Exceeded;
            }
        }

        return (warning, exceeded);
    }

    private static string? EventValue(LlmRequest row, string dimension) => dimension switch
    {
        "endpointTag" => row.EndpointTag,
        "promptVersion" => row.PromptVersion,
        "tenantId" => row.TenantId,
        "userId" => row.UserId,
        "model" => row.Model,
        "provider" => row.Provider,
        _ => null,
    };
}
