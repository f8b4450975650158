using Opsmeter.Web.Infrastructure.Hosting;

namespace Opsmeter.Web.Features.Pricing;

internal static class PricingSetup
{
    /// <summary>The price catalog, in memory; the start-up sequence loads it, and its refresh loop follows other nodes' changes.</summary>
    public static IHostApplicationBuilder AddPricing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PriceCatalog>();
        builder.Services.AddSingleton<PriceCatalogRefresh>();
        builder.AddBackgroundLoop<PriceCatalogRefresh>();
        return builder;
    }
}
