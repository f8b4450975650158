using System.Globalization;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Budgets;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Budgets;

/// <summary>The budget form: flat fields a person can type, turned into the API's <see cref="BudgetRequest"/> and checked by its validator.</summary>
public sealed class BudgetForm
{
    public string Name { get; set; } = "";
    public string ScopeDimension { get; set; } = BudgetRules.Workspace;
    public string? ScopeValue { get; set; }
    public string Period { get; set; } = BudgetRules.Monthly;
    public string TimeZone { get; set; } = "UTC";
    public decimal? LimitUsd { get; set; }

    /// <summary>Percentages, comma separated: "50, 80"; none when left empty (the form then posts null).</summary>
    public string? WarningThresholds { get; set; } = "50, 80";
    public string OnExceeded { get; set; } = "warn";
    public int? MaxOutputTokens { get; set; }
    public string? FallbackModel { get; set; }
    public List<string> DataModes { get; set; } = ["real"];

    internal (BudgetRequest? Request, string? ThresholdError) ToRequest()
    {
        var thresholds = new List<decimal>();
        foreach (var part in (WarningThresholds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!decimal.TryParse(part.TrimEnd('%'), NumberStyles.Number, CultureInfo.InvariantCulture, out var percent))
            {
                return (null, $"'{part}' is not a percentage.");
            }

            thresholds.Add(percent / 100m);
        }

        return (new BudgetRequest(Name, new BudgetScope(ScopeDimension, ScopeDimension == BudgetRules.Workspace ? null : ScopeValue), Period, TimeZone,
            LimitUsd, [.. thresholds], OnExceeded, OnExceeded == "clamp" ? MaxOutputTokens : null, OnExceeded == "fallback" ? FallbackModel : null,
            [.. DataModes]), null);
    }

    internal static BudgetForm From(Budget b) => new()
    {
        Name = b.Name, ScopeDimension = b.ScopeDimension, ScopeValue = b.ScopeValue, Period = b.Period, TimeZone = b.TimeZone, LimitUsd = b.LimitUsd,
        WarningThresholds = string.Join(", ", b.WarningThresholds.Select(t => (t * 100m).ToString("0.##", CultureInfo.InvariantCulture))),
        OnExceeded = b.OnExceeded, MaxOutputTokens = b.MaxOutputTokens, FallbackModel = b.FallbackModel, DataModes = [.. b.DataModes],
    };
}

/// <summary>Create, edit or delete a budget (owners and admins).</summary>
[ManagersOnly]
internal sealed class EditModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, IBudgetChangeHandler changes,
    TimeProvider clock, IValidator<BudgetRequest> validator) : DashboardPageModel(current)
{
    public override string Nav => "budgets";

    /// <summary>Where the API validator's field names land on this form.</summary>
    private static readonly Dictionary<string, string> FormFields = new()
    {
        ["name"] = nameof(BudgetForm.Name), ["scope.dimension"] = nameof(BudgetForm.ScopeDimension), ["scope.value"] = nameof(BudgetForm.ScopeValue),
        ["period"] = nameof(BudgetForm.Period), ["timeZone"] = nameof(BudgetForm.TimeZone), ["limitUsd"] = nameof(BudgetForm.LimitUsd),
        ["warningThresholds"] = nameof(BudgetForm.WarningThresholds), ["onExceeded"] = nameof(BudgetForm.OnExceeded),
        ["maxOutputTokens"] = nameof(BudgetForm.MaxOutputTokens), ["fallbackModel"] = nameof(BudgetForm.FallbackModel),
        ["dataModes"] = nameof(BudgetForm.DataModes),
    };

    [BindProperty(SupportsGet = true)]
    public Guid? Id { get; set; }

    [BindProperty]
    public BudgetForm Form { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Id is { } id)
        {
            var budget = await db.Budgets.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id && b.WorkspaceId == Membership.WorkspaceId, ct);
            if (budget is null)
            {
                return NotFound();
            }

            Form = BudgetForm.From(budget);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (Id is { } existing && !await db.Budgets.AnyAsync(b => b.Id == existing && b.WorkspaceId == Membership.WorkspaceId, ct))
        {
            return NotFound();
        }

        var (request, thresholdError) = Form.ToRequest();
        if (request is null)
        {
            ModelState.AddModelError($"Form.{nameof(BudgetForm.WarningThresholds)}", thresholdError!);
            return Page();
        }

        var validation = await validator.ValidateAsync(request, ct);
        foreach (var error in validation.Errors)
        {
            var key = error.PropertyName.Split('[')[0];
            ModelState.AddModelError(FormFields.TryGetValue(key, out var field) ? $"Form.{field}" : "", error.ErrorMessage);
        }

        if (!validation.IsValid || !ModelState.IsValid)
        {
            return Page();
        }

        await ManageBudgets.SaveAsync(db, audit, changes, clock, Membership.WorkspaceId, Id, request, ct);
        TempData["Message"] = $"Budget '{request.Name}' saved and evaluated.";
        return RedirectToPage("Index");
    }

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        if (Id is not { } id)
        {
            return Forbid();
        }

        await ManageBudgets.RemoveAsync(db, audit, changes, Membership.WorkspaceId, id, ct);
        TempData["Message"] = "Budget deleted.";
        return RedirectToPage("Index");
    }
}
