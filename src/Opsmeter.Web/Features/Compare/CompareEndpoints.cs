using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Compare;

internal static class CompareEndpoints
{
    public static IEndpointRouteBuilder MapCompareEndpoints(this IEndpointRouteBuilder app)
    {
        var compare = app.MapGroup("/v1/compare").WithTags("Compare").RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Read));
        compare.MapGet("", CompareAsync).WithName("Compare")
            .WithSummary("The current window (?from=&to=, default last 7 days) against ?baselineFrom=&baselineTo= (default: the equal window before), by ?groupBy=, ranked by absolute cost change.");
        compare.MapGet("/prompt-versions", ComparePromptsAsync).WithName("ComparePromptVersions")
            .WithSummary("Prompt version ?a= against ?b= on ?endpointTag=: requests, cost, tokens, p95 latency and error rate per request, with a flag for small samples.");
        return app;
    }

    private static async Task<Results<Ok<CompareResponse>, ValidationProblem>> CompareAsync(HttpRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, TimeProvider clock, IOptions<QueryOptions> limits, CancellationToken ct)
    {
        var (current, groupBy, errors) = UsageFilterReader.Read(request.Query, clock.GetUtcNow(), defaultGroupBy: "endpointTag");
        var (baseline, baselineErrors) = CompareUsage.ReadBaseline(request.Query, current);
        foreach (var (key, value) in baselineErrors)
        {
            errors[key] = value;
        }

        UsageFilterReader.Bound(current, limits.Value.MaxRange, errors);
        UsageFilterReader.Bound(baseline, limits.Value.MaxRange, errors, field: "baselineFrom");

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await CompareUsage.CompareAsync(db, user.WorkspaceId(), current, baseline, groupBy, limits.Value.MaxGroups, ct));
    }

    private static async Task<Results<Ok<PromptVersionComparison>, ValidationProblem>> ComparePromptsAsync(HttpRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, TimeProvider clock, IOptions<QueryOptions> limits, CancellationToken ct)
    {
        var (filter, _, errors) = UsageFilterReader.Read(request.Query, clock.GetUtcNow(), defaultGroupBy: "endpointTag");
        UsageFilterReader.Bound(filter, limits.Value.MaxRange, errors);
        string? Required(string name)
        {
            if (request.Query[name].ToString() is { Length: > 0 } value)
            {
                return value;
            }

            errors[name] = [$"{name} is required."];
            return null;
        }

        var (endpointTag, a, b) = (Required("endpointTag"), Required("a"), Required("b"));
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // The endpoint and the two versions are the comparison itself, not extra filters.
        var rest = filter with { Dimensions = filter.Dimensions?.Where(d => d.Key is not ("endpointTag" or "promptVersion")).ToDictionary() };
        return TypedResults.Ok(await ComparePromptVersions.CompareAsync(db, user.WorkspaceId(), rest, endpointTag!, a!, b!, ct));
    }
}
