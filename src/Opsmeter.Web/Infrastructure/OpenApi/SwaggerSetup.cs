using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Opsmeter.Web.Features.Ingest;
using Opsmeter.Web.Infrastructure.Auth;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Opsmeter.Web.Infrastructure.OpenApi;

/// <summary>Swashbuckle, for the /v1 API only. Kept in one file so that swapping the generator later touches nothing else.</summary>
internal static class SwaggerSetup
{
    public static IServiceCollection AddOpsmeterSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Opsmeter API",
                Version = "v1",
                Description = "LLM usage ingest, pricing and cost control. Authenticate with X-API-Key (or Authorization: Bearer).",
            });
            o.DocInclusionPredicate((_, api) => api.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true);
            o.AddSecurityDefinition(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "An Opsmeter API key.",
            });
            o.OperationFilter<ApiKeyRequirementFilter>();
            // A batch entry is read by its own converter; on the wire it is simply an event.
            o.MapType<IngestBatchItem>(() => new OpenApiSchemaReference(nameof(IngestEventRequest)));
        });
        return services;
    }

    public static WebApplication UseOpsmeterSwagger(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "Opsmeter API v1"));
        return app;
    }

    /// <summary>Marks the operations that need a key (those with an authorization policy) with the ApiKey scheme.</summary>
    private sealed class ApiKeyRequirementFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [],
                });
            }
        }
    }
}
