using Opsmeter.Web.Features.ApiKeys;

namespace Opsmeter.Web.Features.Usage;

internal static class UsageEndpoints
{
    public static IEndpointRouteBuilder MapUsageEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/metrics", GetMetrics.HandleAsync)
            .WithTags("Metrics")
            .WithName("GetMetrics")
            .WithSummary("Spend, requests, errors, tokens and latency grouped by one dimension (?groupBy=), for ?from= to ?to= (default: the last 7 days).")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Read));
        return app;
    }
}
