using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Auth;
using Serilog;

namespace Opsmeter.Web.Features.Ingest;

internal sealed class IngestBatchValidator : AbstractValidator<IngestBatchRequest>
{
    public IngestBatchValidator() =>
        RuleFor(x => x.Events).Cascade(CascadeMode.Stop).NotNull().Must(e => e!.Count is >= 1 and <= IngestOptions.MaxBatchEvents)
            .WithMessage($"events must hold 1 to {IngestOptions.MaxBatchEvents} events.");
}

/// <summary><c>POST /v1/ingest/batch</c>: each event is read, validated and stored on its own; one bad event never rejects the others.</summary>
internal static class IngestBatch
{
    public static async Task<Results<JsonHttpResult<IngestBatchResponse>, ProblemHttpResult>> HandleAsync(IngestBatchRequest body,
        ClaimsPrincipal user, IValidator<IngestEventRequest> validator, PriceCatalog catalog, IngestWriter writer, RawRetention retention,
        QuotaMeter quota, TimeProvider clock, IDiagnosticContext diagnostics)
    {
        var workspaceId = user.WorkspaceId();
        diagnostics.Set("WorkspaceId", workspaceId);
        // Under the quota a whole batch is taken, even one that crosses it; once it is reached, a whole batch is refused.
        if (await quota.UsageAsync(workspaceId) is { IsReached: true } used)
        {
            return PlanLimitReached.Problem(used);
        }

        var results = await IngestAsync(workspaceId, body.Events!, validator, catalog, writer, retention, quota, clock);
        var response = new IngestBatchResponse(
            Created: results.Count(r => r.Status == "created"),
            Duplicates: results.Count(r => r.Status == "duplicate"),
            Rejected: results.Count(r => r.Status == "rejected"),
            Results: results);
        return TypedResults.Json(response, statusCode: response.Rejected == 0 ? StatusCodes.Status200OK : StatusCodes.Status207MultiStatus);
    }

    /// <summary>
    /// The batch path itself, shared with every other way events arrive in numbers (OTLP): each entry validated, bounded
    /// by the workspace's retention and priced on its own, the accepted ones submitted to one group commit. Completes
    /// only after that commit; throws <see cref="IngestUnavailableException"/> (503) when ingest cannot take them.
    /// </summary>
    public static async Task<IngestBatchItemResult[]> IngestAsync(Guid workspaceId, IReadOnlyList<IngestBatchItem> items,
        IValidator<IngestEventRequest> validator, PriceCatalog catalog, IngestWriter writer, RawRetention retention, QuotaMeter quota,
        TimeProvider clock)
    {
        var (oldest, days) = await retention.OldestAcceptedAsync(workspaceId);
        var receivedAt = clock.GetUtcNow();
        var results = new IngestBatchItemResult[items.Count];
        var accepted = new List<(int Index, PricedEvent Event)>(results.Length);
        for (var i = 0; i < results.Length; i++)
        {
            var item = items[i];
            var request = item.Take();
            // Synchronous: the event validator has no asynchronous rules, and its async path costs twice as much per event.
            var errors = request is null ? item.Errors
                : validator.Validate(request) is { IsValid: false } validation ? validation.ToDictionary()
                : OccurredAtBound.Check(request, oldest, days);
            if (errors is not null)
            {
                results[i] = new IngestBatchItemResult(i, request?.ExternalRequestId ?? item.ExternalRequestId, "rejected", null, null, null, errors);
                continue;
            }

            accepted.Add((i, PriceEvent.From(request!, workspaceId, receivedAt, catalog)));
        }

        if (accepted.Count > 0)
        {
            var outcomes = await writer.SubmitAsync([.. accepted.Select(a => a.Event.Row)]);
            quota.Add(workspaceId, outcomes.Count(o => !o.Duplicate));
            for (var j = 0; j < accepted.Count; j++)
            {
                var (index, priced) = accepted[j];
                var outcome = outcomes[j];
                results[index] = new IngestBatchItemResult(index, priced.Row.ExternalRequestId,
                    outcome.Duplicate ? "duplicate" : "created", Money.Normalize(outcome.CostUsd), outcome.CostStatus,
                    outcome.Duplicate || priced.Warnings.Count == 0 ? null : priced.Warnings, null);
            }
        }

        return results;
    }
}
