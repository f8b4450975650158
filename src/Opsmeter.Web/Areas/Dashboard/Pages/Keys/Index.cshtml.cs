using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Keys;

public sealed class CreateKeyForm
{
    public string Name { get; set; } = "";
    public List<string> Scopes { get; set; } = [ApiKeyScopes.Ingest];
}

internal sealed class CreateKeyFormValidator : AbstractValidator<CreateKeyForm>
{
    public CreateKeyFormValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(128);
        RuleFor(x => x.Scopes).NotEmpty().WithMessage("Choose at least one scope.")
            .Must(s => s.All(ApiKeyScopes.All.Contains)).WithMessage("Unknown scope.");
    }
}

internal sealed record KeyRow(Guid Id, string Name, string Prefix, string[] Scopes, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// API keys of the current workspace: created with scopes and shown once, listed by prefix, revoked. Owners and admins only.
/// Each creation and revocation is audited under the signed-in person.
/// </summary>
[ManagersOnly]
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, ApiKeyStore keys, TimeProvider clock,
    IValidator<CreateKeyForm> validator) : DashboardPageModel(current)
{
    public override string Nav => "keys";

    [BindProperty]
    public CreateKeyForm Form { get; set; } = new();

    public List<KeyRow> Keys { get; private set; } = [];

    /// <summary>The secret of a key just created: on this one response, never again.</summary>
    public string? CreatedKey { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await ShowAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return await ShowAsync(ct);
        }

        var created = await CreateApiKey.HandleAsync(db, audit, clock, Membership.WorkspaceId, Form.Name.Trim(), Form.Scopes, actor: null, ct);
        CreatedKey = created.Key;
        Form = new CreateKeyForm();
        return await ShowAsync(ct);
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken ct)
    {
        await RevokeApiKey.HandleAsync(db, audit, keys, clock, Membership.WorkspaceId, id, actor: null, ct);
        return RedirectToPage();
    }

    private async Task<IActionResult> ShowAsync(CancellationToken ct)
    {
        Keys = await db.ApiKeys.AsNoTracking()
            .Where(k => k.WorkspaceId == Membership.WorkspaceId)
            .OrderBy(k => k.RevokedAt != null).ThenByDescending(k => k.CreatedAt)
            .Select(k => new KeyRow(k.Id, k.Name, k.Prefix, k.Scopes, k.CreatedAt, k.LastUsedAt, k.RevokedAt))
            .ToListAsync(ct);
        return Page();
    }
}
