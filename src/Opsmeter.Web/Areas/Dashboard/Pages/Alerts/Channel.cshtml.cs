using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Notifications;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Alerts;

/// <summary>Changes a channel's name, URL or format (owners and admins: the form holds the full URL). Its secret and delivery log stay.</summary>
[ManagersOnly]
internal sealed class ChannelModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, IValidator<ChannelForm> validator)
    : DashboardPageModel(current)
{
    public override string Nav => "alerts";

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    [BindProperty]
    public ChannelForm Form { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var channel = await db.WebhookChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == Id && c.WorkspaceId == Membership.WorkspaceId, ct);
        if (channel is null)
        {
            return NotFound();
        }

        Form = new ChannelForm { Name = channel.Name, Url = channel.Url, Format = channel.Format };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return Page();
        }

        if (!await ManageChannels.UpdateAsync(db, audit, Membership.WorkspaceId, Id, Form, ct))
        {
            return NotFound();
        }

        TempData["Message"] = $"Channel '{Form.Name.Trim()}' saved.";
        return RedirectToPage("Index");
    }
}
