using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Opsmeter.Web.Features.Policy;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Auth;
using Serilog;

namespace Opsmeter.Web.Features.Ingest;

/// <summary><c>POST /v1/ingest</c> and its Opsmeter.io alias <c>/v1/ingest/llm-request</c>: one event, answered after its commit.</summary>
internal static class IngestLlmRequest
{
    public static async Task<Results<Ok<IngestResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(IngestEventRequest body, ClaimsPrincipal user,
        PriceCatalog catalog, IngestWriter writer, PolicySnapshot policy, RawRetention retention, QuotaMeter quota, TimeProvider clock,
        IDiagnosticContext diagnostics)
    {
        var workspaceId = user.WorkspaceId();
        if (await quota.UsageAsync(workspaceId) is { IsReached: true } used)
        {
            return PlanLimitReached.Problem(used); // a retry of a stored event too: the check reads no event
        }

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
        quota.Add(workspaceId, outcomes[0].Duplicate ? 0 : 1);
        return TypedResults.Ok(IngestResponse.From(priced, outcomes[0], catalog, policy.For(workspaceId).FlagsFor(priced.Row,
            outcomes[0].Duplicate ? 0 : outcomes[0].CostUsd, clock.GetUtcNow())));
    }
}
