namespace Opsmeter.Web.Features.Notifications;

internal static class NotificationsSetup
{
    /// <summary>Webhook channels: the delivery job and its HTTP client.</summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<DeliverWebhookJob>();
        // No redirects: a webhook answers where it was configured, and a redirect must not carry the signed body elsewhere.
        builder.Services.AddHttpClient(DeliverWebhookJob.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        return builder;
    }
}
