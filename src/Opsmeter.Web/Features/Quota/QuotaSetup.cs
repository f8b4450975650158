namespace Opsmeter.Web.Features.Quota;

internal static class QuotaSetup
{
    /// <summary>Monthly request quotas: the default (validated at start) and the in-memory meter ingest asks.</summary>
    public static IHostApplicationBuilder AddQuota(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<QuotaOptions>().BindConfiguration(QuotaOptions.Section).ValidateDataAnnotations();
        builder.Services.AddSingleton<QuotaMeter>();
        return builder;
    }
}
