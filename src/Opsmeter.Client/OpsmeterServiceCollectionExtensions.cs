using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Opsmeter.Client;

public static class OpsmeterServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IOpsmeterClient"/>: options from the configuration section <c>Opsmeter</c> (when the host has
    /// configuration), then <paramref name="configure"/>; a named HttpClient with the key and the timeout.
    /// </summary>
    public static IServiceCollection AddOpsmeter(this IServiceCollection services, Action<OpsmeterOptions>? configure = null)
    {
        services.AddOptions<OpsmeterOptions>()
            .Configure<IServiceProvider>((options, provider) => provider.GetService<IConfiguration>()?.GetSection(OpsmeterOptions.Section).Bind(options))
            .Configure(options => configure?.Invoke(options))
            .Validate(o => o.BaseUrl is not null, "Opsmeter:BaseUrl is required.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiKey), "Opsmeter:ApiKey is required.");
        services.AddHttpClient(OpsmeterClient.HttpClientName, (provider, client) =>
        {
            var options = provider.GetRequiredService<IOptions<OpsmeterOptions>>().Value;
            client.BaseAddress = options.BaseUrl;
            client.Timeout = options.Timeout;
            client.DefaultRequestHeaders.Add("X-API-Key", options.ApiKey);
        });
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<OpsmeterClient>();
        services.AddSingleton<IOpsmeterClient>(provider => provider.GetRequiredService<OpsmeterClient>());
        return services;
    }
}
