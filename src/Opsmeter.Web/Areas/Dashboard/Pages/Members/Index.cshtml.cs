using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Members;

public sealed class AddMemberForm
{
    public string Email { get; set; } = "";
    public string Role { get; set; } = WorkspaceRoles.Member;
    public string? InitialPassword { get; set; }
}

internal sealed class AddMemberFormValidator : AbstractValidator<AddMemberForm>
{
    public AddMemberFormValidator()
    {
        RuleFor(x => x.Email).NotEmpty().EmailAddress().MaximumLength(256);
        RuleFor(x => x.Role).Must(WorkspaceRoles.All.Contains).WithMessage("Choose owner, admin or member.");
        RuleFor(x => x.InitialPassword).MinimumLength(10).When(x => !string.IsNullOrEmpty(x.InitialPassword));
    }
}

/// <summary>The people of the workspace; everyone sees the list, owners and admins change it.</summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, UserManager<OpsmeterUser> users, TimeProvider clock,
    IValidator<AddMemberForm> validator) : DashboardPageModel(current)
{
    public override string Nav => "members";

    [BindProperty]
    public AddMemberForm Form { get; set; } = new();

    public List<MemberRow> Members { get; private set; } = [];

    [TempData]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await ShowAsync(ct);

    public async Task<IActionResult> OnPostAddAsync(CancellationToken ct)
    {
        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return await ShowAsync(ct);
        }

        if (await ManageMembers.AddAsync(db, users, clock, Membership, Form.Email, Form.Role, Form.InitialPassword) is { } problem)
        {
            ModelState.AddModelError(string.Empty, problem);
            return await ShowAsync(ct);
        }

        Message = $"{Form.Email} added as {Form.Role}.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostChangeAsync(Guid userId, string? role, CancellationToken ct)
    {
        var problem = role is null or "" || WorkspaceRoles.All.Contains(role)
            ? await ManageMembers.ChangeAsync(db, Membership, userId, role is "" ? null : role, ct)
            : "Unknown role.";
        Message = problem ?? "Saved.";
        return RedirectToPage();
    }

    private async Task<IActionResult> ShowAsync(CancellationToken ct)
    {
        Members = await ManageMembers.ListAsync(db, Membership.WorkspaceId, ct);
        return Page();
    }
}
