using Hangfire;
using Opsmeter.Web.Features.Pricing;

namespace Opsmeter.Web.Features.Repricing;

internal static class RepricingSetup
{
    /// <summary>Re-pricing: a new price for a workspace queues <see cref="RepriceJob"/> for it.</summary>
    public static IHostApplicationBuilder AddRepricing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<RepriceJob>();
        builder.Services.AddScoped<IPriceChangeHandler, QueueReprice>();
        return builder;
    }

    private sealed class QueueReprice(IBackgroundJobClient jobs) : IPriceChangeHandler
    {
        public void PriceAdded(Guid workspaceId) => jobs.Enqueue<RepriceJob>(j => j.RunAsync(workspaceId, CancellationToken.None));
    }
}
