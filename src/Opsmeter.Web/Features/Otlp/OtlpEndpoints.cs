using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Ingest;

namespace Opsmeter.Web.Features.Otlp;

internal static class OtlpEndpoints
{
    /// <summary>
    /// OTLP/HTTP under <c>/v1/otlp</c>, so that an exporter's base endpoint <c>{server}/v1/otlp</c> gets OTLP's own
    /// <c>/v1/traces</c> appended. Ingest keys only; the workspace is the key's, never a span's.
    /// </summary>
    public static IEndpointRouteBuilder MapOtlpEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/otlp/v1/traces", ExportTraces.HandleAsync)
            .WithTags("OpenTelemetry")
            .WithName("OtlpExportTraces")
            .WithSummary("OTLP/HTTP trace export (protobuf or JSON, gzip allowed): GenAI spans become usage events; answered after the commit.")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Ingest))
            .WithMetadata(new RequestSizeLimitAttribute(IngestOptions.MaxBatchBodyBytes))
            .RequireAdmission()
            .Produces(StatusCodes.Status200OK, contentType: OtlpPayload.ProtobufContentType, additionalContentTypes: OtlpPayload.JsonContentType)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status402PaymentRequired)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
