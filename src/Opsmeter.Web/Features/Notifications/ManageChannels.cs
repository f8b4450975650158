using FluentValidation;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
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
    public ChannelFormValidator(WebhookAddressGuard guard)
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(128);
        RuleFor(x => x.Url).Cascade(CascadeMode.Stop).NotEmpty().MaximumLength(2048)
            .Must(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            .WithMessage("Enter an absolute http:// or https:// URL.")
            .CustomAsync(async (url, context, ct) =>
            {
                if (await guard.CheckUrlAsync(url, ct) is { } refusal)
                {
                    context.AddFailure(refusal);
                }
            });
        RuleFor(x => x.Format).Must(WebhookFormats.All.Contains).WithMessage("Choose generic or slack.");
    }
}

/// <summary>
/// Webhook channels of a workspace: add (the secret is shown once), change, remove, send a test message. Each change
/// leaves an audit entry in the same transaction, naming the channel by its masked URL (<see cref="WebhookUrls.Mask"/>).
/// </summary>
internal static class ManageChannels
{
    public static async Task<(WebhookChannel Channel, string Secret)> CreateAsync(OpsmeterDbContext db, AuditLog audit,
        IDataProtectionProvider protection, TimeProvider clock, Guid workspaceId, ChannelForm form, CancellationToken ct)
    {
        var secret = WebhookMessages.NewSecret();
        var channel = new WebhookChannel
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()), WorkspaceId = workspaceId, Name = form.Name.Trim(), Url = form.Url.Trim(),
            Format = form.Format, ProtectedSecret = WebhookSecrets.Protect(protection, secret), CreatedAt = clock.GetUtcNow(),
        };
        db.WebhookChannels.Add(channel);
        audit.Add(workspaceId, AuditActions.ChannelCreated, channel.Name, after: Describe(channel));
        await db.SaveChangesAsync(ct);
        return (channel, secret);
    }

    /// <summary>Renames a channel, or points it at another URL or format (its secret and delivery log stay); false when it is not the workspace's.</summary>
    public static async Task<bool> UpdateAsync(OpsmeterDbContext db, AuditLog audit, Guid workspaceId, Guid id, ChannelForm form, CancellationToken ct)
    {
        var channel = await db.WebhookChannels.SingleOrDefaultAsync(c => c.Id == id && c.WorkspaceId == workspaceId, ct);
        if (channel is null)
        {
            return false;
        }

        var before = Describe(channel);
        (channel.Name, channel.Url, channel.Format) = (form.Name.Trim(), form.Url.Trim(), form.Format);
        if (db.Entry(channel).Properties.Any(p => p.IsModified))
        {
            audit.Add(workspaceId, AuditActions.ChannelChanged, channel.Name, before, Describe(channel));
            await db.SaveChangesAsync(ct);
        }

        return true;
    }

    /// <summary>Removes the channel and its delivery log; false when it is not the workspace's.</summary>
    public static async Task<bool> DeleteAsync(OpsmeterDbContext db, AuditLog audit, Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var channel = await db.WebhookChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id && c.WorkspaceId == workspaceId, ct);
        if (channel is null || await db.WebhookChannels.Where(c => c.WorkspaceId == workspaceId && c.Id == id).ExecuteDeleteAsync(ct) == 0)
        {
            return false;
        }

        audit.Add(workspaceId, AuditActions.ChannelDeleted, channel.Name, before: Describe(channel));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>"#ai-costs: slack, https://hooks.slack.com/…Xy7Q": what the audit says of a channel, never its full URL or its secret.</summary>
    public static string Describe(WebhookChannel channel) => $"{channel.Name}: {channel.Format}, {WebhookUrls.Mask(channel.Url)}";

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
