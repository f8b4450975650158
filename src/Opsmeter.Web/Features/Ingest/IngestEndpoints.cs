using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.Http;

namespace Opsmeter.Web.Features.Ingest;

internal static class IngestEndpoints
{
    public static IEndpointRouteBuilder MapIngestEndpoints(this IEndpointRouteBuilder app)
    {
        var ingest = app.MapGroup("/v1/ingest").WithTags("Ingest")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Ingest));

        ingest.MapPost("", IngestLlmRequest.HandleAsync)
            .WithName("Ingest")
            .WithSummary("Ingest one LLM call; answered after the event is committed.")
            .WithIngestMetadata<IngestEventRequest>(IngestOptions.MaxSingleBodyBytes);
        ingest.MapPost("/llm-request", IngestLlmRequest.HandleAsync)
            .WithName("IngestLlmRequest")
            .WithSummary("Alias of POST /v1/ingest, the path Opsmeter.io SDKs use.")
            .WithIngestMetadata<IngestEventRequest>(IngestOptions.MaxSingleBodyBytes);
        ingest.MapPost("/batch", IngestBatch.HandleAsync)
            .WithName("IngestBatch")
            .WithSummary("Ingest 1 to 1000 LLM calls; each is validated and stored on its own.")
            .Produces<IngestBatchResponse>(StatusCodes.Status207MultiStatus)
            .WithIngestMetadata<IngestBatchRequest>(IngestOptions.MaxBatchBodyBytes);
        ingest.MapPost("/demo", DemoData.HandleCreateAsync)
            .WithName("CreateDemoData")
            .WithSummary("Writes a week of realistic demo events (dataMode=demo) into the workspace.");

        var cleanup = app.MapGroup("/v1/ingest").WithTags("Ingest")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Admin));
        cleanup.MapDelete("/demo-data", (ClaimsPrincipal user, OpsmeterDbContext db, AuditLog audit, HttpRequest request,
                CancellationToken ct) => DemoData.HandleDeleteAsync(db, audit, user.WorkspaceId(), "demo", request.Query, ct))
            .WithName("DeleteDemoData")
            .WithSummary("Deletes the workspace's demo events; real and test events stay. ?scope=mine is refused (400).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        cleanup.MapDelete("/test-data", (ClaimsPrincipal user, OpsmeterDbContext db, AuditLog audit, HttpRequest request,
                CancellationToken ct) => DemoData.HandleDeleteAsync(db, audit, user.WorkspaceId(), "test", request.Query, ct))
            .WithName("DeleteTestData")
            .WithSummary("Deletes the workspace's test events; real and demo events stay. ?scope=mine is refused (400).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static RouteHandlerBuilder WithIngestMetadata<TBody>(this RouteHandlerBuilder builder, long maxBodyBytes) => builder
        .WithValidation<TBody>()
        .RequireAdmission()
        .WithMetadata(new RequestSizeLimitAttribute(maxBodyBytes))
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status402PaymentRequired)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status429TooManyRequests)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
}
