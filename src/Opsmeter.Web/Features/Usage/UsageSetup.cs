using Opsmeter.Web.Infrastructure.Hosting;

namespace Opsmeter.Web.Features.Usage;

internal static class UsageSetup
{
    /// <summary>Usage figures: the bounds on reading them, and the rollup worker that folds new events in, off the ingest path.</summary>
    public static IHostApplicationBuilder AddUsage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<QueryOptions>().BindConfiguration(QueryOptions.Section).ValidateDataAnnotations();
        builder.Services.AddSingleton<RollupWorker>();
        builder.AddBackgroundLoop<RollupWorker>();
        return builder;
    }
}
