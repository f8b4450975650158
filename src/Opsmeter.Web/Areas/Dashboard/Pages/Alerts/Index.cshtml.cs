using FluentValidation;
using FluentValidation.AspNetCore;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Alerts;

/// <summary>A channel as the page shows it: its URL in full for owners and admins, masked for members (<see cref="WebhookUrls.Mask"/>).</summary>
internal sealed record ChannelRow(Guid Id, string Name, string Format, string Url, DateTimeOffset CreatedAt);

/// <summary>Webhook channels (owners and admins add, change, remove and test them) and the delivery log with HTTP status codes.</summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, IDataProtectionProvider protection,
    IBackgroundJobClient jobs, TimeProvider clock, IValidator<ChannelForm> validator) : DashboardPageModel(current)
{
    public override string Nav => "alerts";

    [BindProperty]
    public ChannelForm Form { get; set; } = new();

    public List<ChannelRow> Channels { get; private set; } = [];
    public List<WebhookDelivery> Deliveries { get; private set; } = [];

    /// <summary>The secret of a channel just added: on this one response, never again.</summary>
    public string? CreatedSecret { get; private set; }

    [TempData]
    public string? Message { get; set; }

    public Task<IActionResult> OnGetAsync(CancellationToken ct) => ShowAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return await ShowAsync(ct);
        }

        (_, CreatedSecret) = await ManageChannels.CreateAsync(db, audit, protection, clock, Membership.WorkspaceId, Form, ct);
        Form = new ChannelForm();
        return await ShowAsync(ct);
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, CancellationToken ct)
    {
        Message = await ManageChannels.DeleteAsync(db, audit, Membership.WorkspaceId, id, ct) ? "Channel removed." : "No such channel.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostTestAsync(Guid id, CancellationToken ct)
    {
        Message = await ManageChannels.SendTestAsync(db, jobs, clock, Membership.WorkspaceId, id, ct) is null
            ? "No such channel."
            : "Test message queued: its delivery appears in the log below within seconds.";
        return RedirectToPage();
    }

    private async Task<IActionResult> ShowAsync(CancellationToken ct)
    {
        var channels = await db.WebhookChannels.AsNoTracking().Where(c => c.WorkspaceId == Membership.WorkspaceId).OrderBy(c => c.Name).ToListAsync(ct);
        var full = Membership.CanManage;
        Channels = channels.ConvertAll(c => new ChannelRow(c.Id, c.Name, c.Format, full ? c.Url : WebhookUrls.Mask(c.Url), c.CreatedAt));
        Deliveries = await db.WebhookDeliveries.AsNoTracking().Where(d => d.WorkspaceId == Membership.WorkspaceId)
            .OrderByDescending(d => d.CreatedAt).Take(50).ToListAsync(ct);
        if (!full)
        {
            WebhookUrls.MaskErrors(Deliveries, channels.ConvertAll(c => c.Url));
        }

        return Page();
    }
}
