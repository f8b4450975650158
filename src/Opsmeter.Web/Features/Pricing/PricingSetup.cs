namespace Opsmeter.Web.Features.Pricing;

internal static class PricingSetup
{
    /// <summary>The price catalog, in memory; the start-up sequence loads it.</summary>
    public static IHostApplicationBuilder AddPricing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PriceCatalog>();
        return builder;
    }
}
