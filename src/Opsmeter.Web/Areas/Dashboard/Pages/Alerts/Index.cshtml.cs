using FluentValidation;
using FluentValidation.AspNetCore;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Alerts;

/// <summary>Webhook channels (owners and admins add, remove and test them) and the delivery log with HTTP status codes.</summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, IDataProtectionProvider protection, IBackgroundJobClient jobs,
    TimeProvider clock, IValidator<ChannelForm> validator) : DashboardPageModel(current)
{
    public override string Nav => "alerts";

    [BindProperty]
    public ChannelForm Form { get; set; } = new();

    public List<WebhookChannel> Channels { get; private set; } = [];
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

        (_, CreatedSecret) = await ManageChannels.CreateAsync(db, protection, clock, Membership.WorkspaceId, Form, ct);
        Form = new ChannelForm();
        return await ShowAsync(ct);
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, CancellationToken ct)
    {
        await ManageChannels.DeleteAsync(db, Membership.WorkspaceId, id, ct);
        Message = "Channel removed.";
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
        Channels = await db.WebhookChannels.AsNoTracking().Where(c => c.WorkspaceId == Membership.WorkspaceId).OrderBy(c => c.Name).ToListAsync(ct);
        Deliveries = await db.WebhookDeliveries.AsNoTracking().Where(d => d.WorkspaceId == Membership.WorkspaceId)
            .OrderByDescending(d => d.CreatedAt).Take(50).ToListAsync(ct);
        return Page();
    }
}
