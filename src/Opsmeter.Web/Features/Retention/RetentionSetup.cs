using Opsmeter.Web.Infrastructure.Hosting;

namespace Opsmeter.Web.Features.Retention;

internal static class RetentionSetup
{
    /// <summary>Retention: each workspace's raw retention for ingest, the partitions of the backfill window (made hourly), and the nightly purge job.</summary>
    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RawRetention>();
        builder.Services.AddScoped<RetentionJob>();
        builder.Services.AddSingleton<PartitionMaintenance>();
        builder.AddBackgroundLoop<PartitionMaintenance>();
        return builder;
    }
}
