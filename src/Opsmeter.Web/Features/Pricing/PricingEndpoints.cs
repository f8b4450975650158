namespace Opsmeter.Web.Features.Pricing;

internal static class PricingEndpoints
{
    public static IEndpointRouteBuilder MapPricingEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/public").WithTags("Pricing").AllowAnonymous()
            .MapGet("/pricing-models", ListPricingModels.Handle)
            .WithName("ListPricingModels")
            .WithSummary("The model prices in force now (or at ?at=), optionally for one ?provider=.");
        return app;
    }
}
