using Microsoft.Extensions.Options;

namespace Opsmeter.Web.Features.Notifications;

internal static class NotificationsSetup
{
    /// <summary>Webhook channels: the delivery job and its HTTP client, which connects only where <see cref="WebhookAddressGuard"/> allows.</summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations();
        builder.Services.AddSingleton<WebhookAddressGuard>();
        builder.Services.AddScoped<DeliverWebhookJob>();
        builder.Services.AddHttpClient(DeliverWebhookJob.HttpClientName)
            .ConfigureHttpClient((sp, c) => c.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<WebhookOptions>>().Value.TimeoutSeconds))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // No redirects: a webhook answers where it was configured, and a redirect must not carry the signed body elsewhere.
                AllowAutoRedirect = false,
                // No proxy: the connect step must see (and judge) the real destination.
                UseProxy = false,
                // Every TCP connection goes through the guard. (HTTP/3 would not, over QUIC: requests stay HTTP/1.1, the default, never upgraded.)
                ConnectCallback = sp.GetRequiredService<WebhookAddressGuard>().ConnectAsync,
                // Bodies are not read; at most this much is drained to reuse the connection, else it is closed.
                MaxResponseDrainSize = 4 * 1024,
            });
        return builder;
    }
}
