namespace Opsmeter.Web.Features.Retention;

internal static class RetentionSetup
{
    /// <summary>Retention: each workspace's raw retention for ingest, and the nightly purge job.</summary>
    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RawRetention>();
        builder.Services.AddScoped<RetentionJob>();
        return builder;
    }
}
