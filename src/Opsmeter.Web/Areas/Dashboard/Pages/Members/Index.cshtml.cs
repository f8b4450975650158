using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Invitations;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Members;

public sealed class InviteForm
{
    public string Email { get; set; } = "";
    public string Role { get; set; } = WorkspaceRoles.Member;
}

internal sealed class InviteFormValidator : AbstractValidator<InviteForm>
{
    public InviteFormValidator(IOptions<IdentityOptions> identity)
    {
        // The email becomes the account's user name: refused now rather than when the person opens the link.
        var allowed = identity.Value.User.AllowedUserNameCharacters;
        RuleFor(x => x.Email).Cascade(CascadeMode.Stop).NotEmpty().EmailAddress().MaximumLength(256)
            .Must(e => e.Trim().All(allowed.Contains)).WithMessage($"An email here is made of letters, digits and {string.Concat(allowed.Where(c => !char.IsAsciiLetterOrDigit(c)))}");
        RuleFor(x => x.Role).Must(WorkspaceRoles.All.Contains).WithMessage("Choose owner, admin or member.");
    }
}

/// <summary>
/// The people of the workspace and its pending invitations; everyone sees them, owners and admins change them. People join
/// only through an invitation link, which the inviter sends themselves: nobody sets a password for anyone else.
/// </summary>
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, AuditLog audit, ILookupNormalizer normalizer, TimeProvider clock,
    IOptions<InvitationOptions> options, IValidator<InviteForm> validator) : DashboardPageModel(current)
{
    public override string Nav => "members";

    [BindProperty]
    public InviteForm Form { get; set; } = new();

    public List<MemberRow> Members { get; private set; } = [];

    public List<PendingInvitation> Invitations { get; private set; } = [];

    /// <summary>The link of an invitation just made: on this one response, never again (only its token's hash is stored).</summary>
    public string? CreatedLink { get; private set; }

    public string? CreatedFor { get; private set; }

    public DateTimeOffset CreatedExpiresAt { get; private set; }

    /// <summary>The roles this person may invite: only owners invite owners.</summary>
    public IEnumerable<string> InvitableRoles => WorkspaceRoles.All.Where(r => r != WorkspaceRoles.Owner || Membership.Role == WorkspaceRoles.Owner);

    [TempData]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await ShowAsync(ct);

    public async Task<IActionResult> OnPostInviteAsync(CancellationToken ct)
    {
        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return await ShowAsync(ct);
        }

        var invited = await ManageInvitations.CreateAsync(db, audit, normalizer, clock, options.Value.Lifetime, Membership, Form.Email, Form.Role, ct);
        if (invited.Token is null)
        {
            ModelState.AddModelError(string.Empty, invited.Problem!);
            return await ShowAsync(ct);
        }

        // Absolute, from this request's scheme and host: the inviter copies it into a message of their own.
        CreatedLink = Url.Page("/Invite", pageHandler: null, values: new { area = "", token = invited.Token }, protocol: Request.Scheme);
        CreatedFor = Form.Email.Trim();
        CreatedExpiresAt = invited.ExpiresAt;
        Form = new InviteForm();
        ModelState.Clear(); // an empty form for the next one, not the values just posted
        return await ShowAsync(ct);
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken ct)
    {
        Message = await ManageInvitations.RevokeAsync(db, audit, clock, Membership, id, ct) ?? "Invitation revoked: its link no longer works.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostChangeAsync(Guid userId, string? role, CancellationToken ct)
    {
        var problem = role is null or "" || WorkspaceRoles.All.Contains(role)
            ? await ManageMembers.ChangeAsync(db, audit, Membership, userId, role is "" ? null : role, ct)
            : "Unknown role.";
        Message = problem ?? "Saved.";
        return RedirectToPage();
    }

    private async Task<IActionResult> ShowAsync(CancellationToken ct)
    {
        Members = await ManageMembers.ListAsync(db, Membership.WorkspaceId, ct);
        Invitations = await ManageInvitations.ListPendingAsync(db, clock, Membership.WorkspaceId, ct);
        // The page may carry a fresh invitation link: not for any cache.
        Response.Headers.CacheControl = "no-store";
        return Page();
    }
}
