using System.Globalization;
using CsvHelper;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Exports;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Repricing;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Prices;

/// <summary>The price form: a person's fields, turned into the API's <see cref="PriceOverrideRequest"/> and checked by its validator.</summary>
public sealed class PriceForm
{
    public string Provider { get; set; } = "";
    public string Model { get; set; } = "";
    public decimal? InputPerMillionUsd { get; set; }
    public decimal? OutputPerMillionUsd { get; set; }
    public decimal? CachedInputPerMillionUsd { get; set; }
    public decimal? CacheWritePerMillionUsd { get; set; }

    /// <summary>UTC; the form's datetime-local field has no zone.</summary>
    public DateTime? EffectiveFromUtc { get; set; }

    public string Reason { get; set; } = "";

    internal PriceOverrideRequest ToRequest() => new(Provider, Model, InputPerMillionUsd, OutputPerMillionUsd, CachedInputPerMillionUsd,
        CacheWritePerMillionUsd, null, null, null, null,
        EffectiveFromUtc is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null, Reason);
}

/// <summary>
/// Prices: the models this workspace sent without a price (with "add price"), its own prices (add, retire), the audit of
/// every change (and its CSV), and the global catalog with each model's history. Reading is for every member; adding and
/// retiring for owners and admins.
/// </summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, PriceCatalog catalog,
    PriceCatalogRefresh refresh, IPriceChangeHandler changes, TimeProvider clock, IValidator<PriceOverrideRequest> validator)
    : DashboardPageModel(current)
{
    private const int MaxCatalogRows = 200;
    private const int AuditRowsShown = 50;

    /// <summary>Where the API validator's field names land on this form.</summary>
    private static readonly Dictionary<string, string> FormFields = new()
    {
        ["provider"] = nameof(PriceForm.Provider), ["model"] = nameof(PriceForm.Model), ["inputPerMillionUsd"] = nameof(PriceForm.InputPerMillionUsd),
        ["outputPerMillionUsd"] = nameof(PriceForm.OutputPerMillionUsd), ["cachedInputPerMillionUsd"] = nameof(PriceForm.CachedInputPerMillionUsd),
        ["cacheWritePerMillionUsd"] = nameof(PriceForm.CacheWritePerMillionUsd), ["effectiveFrom"] = nameof(PriceForm.EffectiveFromUtc),
        ["reason"] = nameof(PriceForm.Reason),
    };

    public override string Nav => "prices";

    /// <summary>Searches the global catalog by provider or model.</summary>
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Query { get; set; }

    [BindProperty]
    public PriceForm Form { get; set; } = new();

    /// <summary>A new version of the global catalog, for instance administrators.</summary>
    [BindProperty]
    public PriceForm GlobalForm { get; set; } = new();

    /// <summary>Whether the person administers the instance (the global catalog is theirs to change).</summary>
    public bool IsInstanceAdmin { get; private set; }

    [TempData]
    public string? Message { get; set; }

    public IReadOnlyList<UnpricedModelResponse> Unpriced { get; private set; } = [];

    public IReadOnlyList<ModelPrice> Overrides { get; private set; } = [];

    public IReadOnlyList<PriceAudit> Audit { get; private set; } = [];

    /// <summary>The latest re-pricing runs: what new prices did to the events stored unpriced before them.</summary>
    public IReadOnlyList<RepriceRun> Runs { get; private set; } = [];

    public IReadOnlyList<IGrouping<(string Provider, string Model), ModelPrice>> Catalog { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string? provider, string? model, CancellationToken ct)
    {
        // "Add price" from an unpriced row fills in its provider and model.
        (Form.Provider, Form.Model) = (provider ?? "", model ?? "");
        await LoadAsync(ct);
        if (provider is not null && model is not null && Unpriced.FirstOrDefault(u => u.Provider == provider && u.Model == model) is { } seen)
        {
            // From the first unpriced event on, so that saving prices all of them.
            Form.EffectiveFromUtc = seen.FirstSeen.UtcDateTime;
        }

        return Page();
    }

    public Task<IActionResult> OnPostAddAsync(CancellationToken ct) => AddAsync(Form, nameof(Form), Membership.WorkspaceId,
        "This workspace already has a price for this model starting at that instant (retired ones count): choose another.",
        price => $"Price for {price.Provider}/{price.Model} saved; events it covers that were stored unpriced are being priced now.", ct);

    /// <summary>A version of the global catalog: every workspace's prices, so instance administrators only, whatever their workspace role.</summary>
    [AllowMembers]
    public async Task<IActionResult> OnPostAddGlobalAsync(CancellationToken ct) => !await InstanceAdminAsync(ct)
        ? Forbid()
        : await AddAsync(GlobalForm, nameof(GlobalForm), null, "The catalog already has a version of this model starting at that instant: choose another.",
            price => $"Catalog version for {price.Provider}/{price.Model} saved for every workspace; unpriced events it covers are being priced now.", ct);

    /// <summary>Validates <paramref name="form"/> with the API's rules (errors on its fields), saves the price, and says so.</summary>
    private async Task<IActionResult> AddAsync(PriceForm form, string prefix, Guid? workspaceId, string conflict, Func<ModelPrice, string> saved,
        CancellationToken ct)
    {
        var request = form.ToRequest();
        var validation = await validator.ValidateAsync(request, ct);
        foreach (var error in validation.Errors)
        {
            ModelState.AddModelError(FormFields.TryGetValue(error.PropertyName, out var field) ? $"{prefix}.{field}" : "", error.ErrorMessage);
        }

        if (validation.IsValid && ModelState.IsValid)
        {
            var (outcome, price) = await PriceOverrides.AddAsync(db, audit, catalog, refresh, changes, clock, workspaceId, Actor, request, ct);
            if (outcome == PriceOverrides.Outcome.Done)
            {
                Message = saved(price);
                return RedirectToPage();
            }

            ModelState.AddModelError($"{prefix}.{nameof(PriceForm.EffectiveFromUtc)}", conflict);
        }

        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRetireAsync(Guid id, string? reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > PriceOverrides.MaxReasonLength)
        {
            Message = "Say why the price is retired (up to 512 characters).";
            return RedirectToPage();
        }

        var (outcome, price) = await PriceOverrides.RetireRowAsync(db, audit, refresh, clock, Membership.WorkspaceId, id, Actor, reason, ct);
        Message = outcome switch
        {
            PriceOverrides.Outcome.NotFound => "No such price in this workspace.",
            PriceOverrides.Outcome.Conflict => "That price was retired already.",
            _ => $"Price for {price!.Provider}/{price.Model} retired; the events it priced keep their cost.",
        };
        return RedirectToPage();
    }

    /// <summary>Every price change of this workspace, oldest first.</summary>
    public async Task<IActionResult> OnGetAuditCsvAsync(CancellationToken ct)
    {
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = "attachment; filename=\"price-audit.csv\"";
        var rows = await db.Set<PriceAudit>().AsNoTracking().Where(a => a.WorkspaceId == Membership.WorkspaceId).OrderBy(a => a.At).ToListAsync(ct);
        await using var csv = CsvWriter.Create(Response.Body, CsvExports.WriterOptions, leaveOpen: true);
        csv.WriteHeader(["at", "actor", "action", "provider", "model", "before", "after", "reason", "priceId"]);
        foreach (var a in rows)
        {
            csv.WriteField(a.At.ToString("O", CultureInfo.InvariantCulture));
            foreach (var field in new[] { a.Actor, a.Action, a.Provider, a.Model, a.Before, a.After, a.Reason, a.PriceId.ToString() })
            {
                csv.WriteField(field);
            }

            await csv.EndRecordAsync(ct);
        }

        await csv.FlushAsync(ct);
        return new EmptyResult(); // written above
    }

    private string Actor => User.Identity?.Name ?? "unknown";

    private Task<bool> InstanceAdminAsync(CancellationToken ct) => InstanceAdmins.IsAsync(db, User, ct);

    private async Task LoadAsync(CancellationToken ct)
    {
        IsInstanceAdmin = await InstanceAdminAsync(ct);
        Unpriced = await UnpricedModels.ListAsync(db, Membership.WorkspaceId, ct);
        Overrides = await db.ModelPrices.AsNoTracking().Where(p => p.WorkspaceId == Membership.WorkspaceId)
            .OrderBy(p => p.Provider).ThenBy(p => p.Model).ThenByDescending(p => p.EffectiveFrom).ToListAsync(ct);
        Audit = await db.Set<PriceAudit>().AsNoTracking().Where(a => a.WorkspaceId == Membership.WorkspaceId)
            .OrderByDescending(a => a.At).Take(AuditRowsShown).ToListAsync(ct);
        Runs = await db.Set<RepriceRun>().AsNoTracking().Where(r => r.WorkspaceId == Membership.WorkspaceId)
            .OrderByDescending(r => r.FinishedAt).Take(10).ToListAsync(ct);
        if (Query is { Length: > 0 } q)
        {
            var pattern = LikePatterns.Containing(q);
            var rows = await db.ModelPrices.AsNoTracking()
                .Where(p => p.WorkspaceId == null && (EF.Functions.ILike(p.Model, pattern) || EF.Functions.ILike(p.Provider, pattern)))
                .OrderBy(p => p.Provider).ThenBy(p => p.Model).ThenByDescending(p => p.EffectiveFrom).Take(MaxCatalogRows).ToListAsync(ct);
            Catalog = [.. rows.GroupBy(p => (p.Provider, p.Model))];
        }
    }
}
