using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Events;

/// <summary>One event by its externalRequestId, with the price row that priced it and its cost parts.</summary>
internal sealed class DetailModel(CurrentWorkspace current, OpsmeterDbContext db) : DashboardPageModel(current)
{
    public override string Nav => "events";

    public LlmRequest Event { get; private set; } = null!;
    public ModelPrice? Price { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        var found = await db.LlmRequests.AsNoTracking()
            .FirstOrDefaultAsync(r => r.WorkspaceId == Membership.WorkspaceId && r.ExternalRequestId == id, ct);
        if (found is null)
        {
            return NotFound();
        }

        Event = found;
        Price = found.PriceId is { } priceId ? await db.ModelPrices.AsNoTracking().FirstOrDefaultAsync(p => p.Id == priceId, ct) : null;
        return Page();
    }
}
