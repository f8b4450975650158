using System.Diagnostics.Metrics;
using System.Security.Claims;
using System.Text;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Google.Protobuf;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Features.Otlp.Protos;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Quota;
using Opsmeter.Web.Features.Retention;
using Opsmeter.Web.Infrastructure.Auth;
using Serilog;

namespace Opsmeter.Web.Features.Otlp;

/// <summary>
/// <c>POST /v1/otlp/v1/traces</c>: an OTLP/HTTP trace export. GenAI spans become usage events and go through the batch
/// ingest path (validation, pricing, idempotency, group commit: answered only after the commit); other spans are
/// ignored and counted. The answer is an <c>ExportTraceServiceResponse</c> in the request's encoding, with
/// <c>partial_success</c> when spans were refused or ignored (docs/api.md "OpenTelemetry in").
/// </summary>
internal static class ExportTraces
{
    /// <summary>Most spans one export may carry; exporters batch 512 by default, the collector 8,192.</summary>
    public const int MaxSpans = 10_000;

    /// <summary>How many refusals the response's message spells out; the count covers them all.</summary>
    private const int ReasonsShown = 5;

    private static readonly Counter<long> Spans = IngestWriter.Meter.CreateCounter<long>(
        "opsmeter.otlp.spans", "{span}", "Spans received over OTLP, by outcome: created, duplicate, rejected, ignored (no GenAI usage)");

    public static async Task<IResult> HandleAsync(HttpRequest http, ClaimsPrincipal user, IValidator<IngestEventRequest> validator,
        PriceCatalog catalog, IngestWriter writer, RawRetention retention, QuotaMeter quota, TimeProvider clock, IDiagnosticContext diagnostics)
    {
        if (OtlpPayload.EncodingOf(http) is not { } encoding)
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "The body must be application/x-protobuf or application/json (OTLP/HTTP).");
        }

        if (!OtlpPayload.IsSupportedContentEncoding(http))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Content-Encoding must be gzip or none.");
        }

        var workspaceId = user.WorkspaceId();
        diagnostics.Set("WorkspaceId", workspaceId);
        // Before the body is read: a 4xx other than 429 tells an OTLP exporter not to retry the export.
        if (await quota.UsageAsync(workspaceId) is { IsReached: true } used)
        {
            return PlanLimitReached.Problem(used);
        }

        ExportTraceServiceRequest export;
        try
        {
            export = await OtlpPayload.ReadAsync(http, encoding, http.HttpContext.RequestAborted);
        }
        catch (OtlpFormatException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body is not an OTLP trace export.", e.Message);
        }
        catch (OtlpTooLargeException e)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "The request body is too large.", e.Message);
        }

        var spanCount = export.ResourceSpans.Sum(r => r.ScopeSpans.Sum(s => (long)s.Spans.Count));
        if (spanCount > MaxSpans)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "The request body is too large.",
                $"An export may carry at most {MaxSpans} spans; this one has {spanCount}. Lower the exporter's batch size.");
        }

        var items = new List<IngestBatchItem>();
        foreach (var resourceSpans in export.ResourceSpans)
        {
            var resource = OtlpAttributes.Read(resourceSpans.Resource?.Attributes ?? []);
            foreach (var span in resourceSpans.ScopeSpans.SelectMany(s => s.Spans))
            {
                if (OtlpSpanMapper.Map(span, resource) is { } request)
                {
                    items.Add(new IngestBatchItem(request));
                }
            }
        }

        var ignored = spanCount - items.Count;
        var results = items.Count == 0 ? [] : await IngestBatch.IngestAsync(workspaceId, items, validator, catalog, writer, retention, quota, clock);
        var rejected = results.Where(r => r.Status == "rejected").ToList();
        Count(results.Length - rejected.Count - results.Count(r => r.Status == "duplicate"), "created");
        Count(results.Count(r => r.Status == "duplicate"), "duplicate");
        Count(rejected.Count, "rejected");
        Count(ignored, "ignored");
        diagnostics.Set("OtlpSpans", spanCount);

        var response = new ExportTraceServiceResponse();
        if (rejected.Count > 0 || ignored > 0)
        {
            response.PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = rejected.Count, ErrorMessage = Message(rejected, ignored) };
        }

        return encoding == OtlpEncoding.Json
            ? Results.Text(OtlpJson.Format(response), OtlpPayload.JsonContentType, Encoding.UTF8)
            : Results.Bytes(response.ToByteArray(), OtlpPayload.ProtobufContentType);
    }

    private static string Message(List<IngestBatchItemResult> rejected, long ignored)
    {
        var message = new StringBuilder();
        if (rejected.Count > 0)
        {
            message.Append(rejected.Count).Append(" GenAI span(s) refused: ");
            message.AppendJoin("; ", rejected.Take(ReasonsShown).Select(r =>
                $"{r.ExternalRequestId ?? "span " + r.Index}: " + string.Join(" ", r.Errors!.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")))));
            message.Append(rejected.Count > ReasonsShown ? "; …. " : ". ");
        }

        if (ignored > 0)
        {
            message.Append(ignored).Append(" span(s) without GenAI usage ignored.");
        }

        return message.ToString().TrimEnd();
    }

    private static void Count(long spans, string outcome)
    {
        if (spans > 0)
        {
            Spans.Add(spans, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    private static ProblemHttpResult Problem(int status, string title, string? detail = null) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
