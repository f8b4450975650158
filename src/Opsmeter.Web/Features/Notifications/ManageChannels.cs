using FluentValidation;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Notifications;

public sealed class ChannelForm
{
    public string Name { get; set; } = "";
    public string Url { get; set; } = "";
    public string Format { get; set; } = WebhookFormats.Generic;
}

internal sealed class ChannelFormValidator : AbstractValidator<ChannelForm>
{
    public ChannelFormValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(128);
        RuleFor(x => x.Url).NotEmpty().MaximumLength(2048)
            .Must(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            .WithMessage("Enter an absolute http:// or https:// URL.");
        RuleFor(x => x.Format).Must(WebhookFormats.All.Contains).WithMessage("Choose generic or slack.");
    }
}

/// <summary>Webhook channels of a workspace: add (the secret is shown once), remove, send a test message.</summary>
internal static class ManageChannels
{
    public static async Task<(WebhookChannel Channel, string Secret)> CreateAsync(OpsmeterDbContext db, IDataProtectionProvider protection,
        TimeProvider clock, Guid workspaceId, ChannelForm form, CancellationToken ct)
    {
        var secret = WebhookMessages.NewSecret();
        var channel = new WebhookChannel
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()), WorkspaceId = workspaceId, Name = form.Name.Trim(), Url = form.Url.Trim(),
            Format = form.Format, ProtectedSecret = WebhookSecrets.Protect(protection, secret), CreatedAt = clock.GetUtcNow(),
        };
        db.WebhookChannels.Add(channel);
        await db.SaveChangesAsync(ct);
        return (channel, secret);
    }

    public static Task<int> DeleteAsync(OpsmeterDbContext db, Guid workspaceId, Guid id, CancellationToken ct) =>
        db.WebhookChannels.Where(c => c.Id == id && c.WorkspaceId == workspaceId).ExecuteDeleteAsync(ct);

    /// <summary>Queues a test message to the channel; null when the channel is not the workspace's.</summary>
    public static async Task<WebhookDelivery?> SendTestAsync(OpsmeterDbContext db, IBackgroundJobClient jobs, TimeProvider clock, Guid workspaceId,
        Guid channelId, CancellationToken ct)
    {
        var channel = await db.WebhookChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == channelId && c.WorkspaceId == workspaceId, ct);
        if (channel is null)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var delivery = db.WebhookDeliveries.Add(new WebhookDelivery
        {
            Id = Guid.CreateVersion7(now), WorkspaceId = workspaceId, ChannelId = channel.Id, Kind = "test",
            Body = WebhookMessages.Test(channel.Format, channel, now), Status = DeliverWebhookJob.Pending, CreatedAt = now,
        }).Entity;
        await db.SaveChangesAsync(ct);
        jobs.Enqueue<DeliverWebhookJob>(j => j.RunAsync(delivery.Id, CancellationToken.None));
        return delivery;
    }
}
