using Opsmeter.Web.Features.ApiKeys;

namespace Opsmeter.Web.Features.Incidents;

internal static class IncidentEndpoints
{
    public static IEndpointRouteBuilder MapIncidentEndpoints(this IEndpointRouteBuilder app)
    {
        var incidents = app.MapGroup("/v1/incidents").WithTags("Incidents")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Admin));
        incidents.MapGet("", ManageIncidents.ListAsync).WithName("ListIncidents").WithSummary("Incidents, newest first (?state=open|acknowledged|resolved).");
        incidents.MapPost("/{id:guid}/acknowledge", ManageIncidents.AcknowledgeAsync).WithName("AcknowledgeIncident");
        incidents.MapPost("/{id:guid}/resolve", ManageIncidents.ResolveAsync).WithName("ResolveIncident");
        return app;
    }
}
