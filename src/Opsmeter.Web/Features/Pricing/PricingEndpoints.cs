using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Infrastructure.Http;

namespace Opsmeter.Web.Features.Pricing;

internal static class PricingEndpoints
{
    public static IEndpointRouteBuilder MapPricingEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/public").WithTags("Pricing").AllowAnonymous()
            .MapGet("/pricing-models", ListPricingModels.Handle)
            .WithName("ListPricingModels")
            .WithSummary("The model prices in force now (or at ?at=), optionally for one ?provider=.");

        var pricing = app.MapGroup("/v1/pricing").WithTags("Pricing");
        var overrides = pricing.MapGroup("/overrides").RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Admin));
        overrides.MapGet("", PriceOverrides.ListAsync).WithName("ListPriceOverrides")
            .WithSummary("The workspace's own price rows, retired ones included.");
        overrides.MapPost("", PriceOverrides.CreateAsync).WithName("CreatePriceOverride").WithValidation<PriceOverrideRequest>()
            .WithSummary("Adds a workspace price for a model from effectiveFrom on; it wins over the catalog for this workspace.");
        overrides.MapPost("/{id:guid}/retire", PriceOverrides.RetireAsync).WithName("RetirePriceOverride")
            .WithSummary("Retires a mistaken workspace price: it prices nothing more; events it priced keep their cost.");
        pricing.MapGet("/unpriced", UnpricedModels.HandleAsync).RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Read))
            .WithName("ListUnpricedModels").WithSummary("Models sent without a price in force, most events first.");
        pricing.MapGet("/dry-run", PriceDryRun.HandleAsync).RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Read))
            .WithName("PriceDryRun").WithSummary("What a range's events of a model cost now, and would cost under one price row; writes nothing.");
        return app;
    }
}
