using System.Text;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Notifications;

/// <summary>
/// Posts one delivery's body to its channel, signed, and logs the outcome on the delivery. A failure
/// (refused address, connection error, timeout, any non-2xx) throws, so Hangfire retries with growing delays; after the
/// last retry the delivery is marked failed. A delivered or failed one is never sent again. The log keeps a short reason
/// (<see cref="WebhookFailures"/>); where the request may go is the HTTP client's connect step (<see cref="WebhookAddressGuard"/>).
/// </summary>
internal sealed class DeliverWebhookJob(OpsmeterDbContext db, IHttpClientFactory http, IDataProtectionProvider protection, TimeProvider clock,
    ILogger<DeliverWebhookJob> logger)
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string HttpClientName = "webhooks";

    /// <summary>Retries after the first attempt, at 30 s, 2 min, 10 min, 30 min and 1 h.</summary>
    public const int Retries = 5;

    [AutomaticRetry(Attempts = Retries, DelaysInSeconds = [30, 120, 600, 1800, 3600], OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public async Task RunAsync(Guid deliveryId, CancellationToken ct)
    {
        // Locked for the attempt: a second run of the same delivery (a re-queued orphan) skips it instead of sending twice.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var delivery = await db.WebhookDeliveries.FromSql($"SELECT * FROM webhook_deliveries WHERE id = {deliveryId} FOR UPDATE SKIP LOCKED")
            .SingleOrDefaultAsync(ct);
        if (delivery is not { Status: Pending })
        {
            return;
        }

        var channel = await db.WebhookChannels.AsNoTracking().SingleOrDefaultAsync(c => c.WorkspaceId == delivery.WorkspaceId && c.Id == delivery.ChannelId, ct);
        if (channel is null)
        {
            return; // deleted with its deliveries
        }

        delivery.Attempts++;
        delivery.LastAttemptAt = clock.GetUtcNow();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, channel.Url)
            {
                Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json"),
            };
            var secret = WebhookSecrets.Unprotect(protection, channel.ProtectedSecret);
            request.Headers.Add(WebhookMessages.SignatureHeader, WebhookMessages.Sign(secret, clock.GetUtcNow(), delivery.Body));
            request.Headers.Add(WebhookMessages.DeliveryHeader, delivery.Id.ToString());
            // Headers only: the body is never read (disposing the response discards it), so a receiver answering 10 MB costs nothing.
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            delivery.LastStatusCode = (int)response.StatusCode;
            delivery.LastError = response.IsSuccessStatusCode ? null : WebhookFailures.Status((int)response.StatusCode);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            delivery.LastStatusCode = null;
            delivery.LastError = WebhookFailures.Describe(e);
            logger.LogInformation(e, "Webhook delivery {DeliveryId} to channel {ChannelId} failed: {Reason}", delivery.Id, channel.Id, delivery.LastError);
        }

        var delivered = delivery.LastError is null;
        delivery.Status = delivered ? Delivered : delivery.Attempts > Retries ? Failed : Pending;
        delivery.DeliveredAt = delivered ? delivery.LastAttemptAt : null;
        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        if (!delivered)
        {
            logger.LogWarning("Webhook delivery {DeliveryId} to channel {ChannelId}, attempt {Attempt}: {Error}",
                delivery.Id, channel.Id, delivery.Attempts, delivery.LastError);
            throw new WebhookDeliveryException($"Delivery {delivery.Id} failed: {delivery.LastError}");
        }
    }
}

/// <summary>Thrown so that Hangfire schedules the next attempt.</summary>
internal sealed class WebhookDeliveryException(string message) : Exception(message);

/// <summary>Channel secrets at rest: encrypted with Data Protection (keys in the database), readable only to sign.</summary>
internal static class WebhookSecrets
{
    private const string Purpose = "Opsmeter.WebhookChannel.Secret";

    public static string Protect(IDataProtectionProvider protection, string secret) => protection.CreateProtector(Purpose).Protect(secret);

    public static string Unprotect(IDataProtectionProvider protection, string protectedSecret) => protection.CreateProtector(Purpose).Unprotect(protectedSecret);
}
