using Opsmeter.Web.Infrastructure.Hosting;

namespace Opsmeter.Web.Features.ApiKeys;

internal static class ApiKeysSetup
{
    /// <summary>API keys: the key cache that authenticates /v1, and the writer of keys' last-use times.</summary>
    public static IHostApplicationBuilder AddApiKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section).ValidateDataAnnotations();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ApiKeyUsage>();
        builder.AddBackgroundLoop<ApiKeyUsage>();
        return builder;
    }
}
