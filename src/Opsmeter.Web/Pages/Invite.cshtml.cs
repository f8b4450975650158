using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Invitations;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.RateLimits;

namespace Opsmeter.Web.Pages;

public sealed class NewAccountForm
{
    public string Password { get; set; } = "";
    public string ConfirmPassword { get; set; } = "";
}

internal sealed class NewAccountFormValidator : AbstractValidator<NewAccountForm>
{
    public NewAccountFormValidator()
    {
        RuleFor(x => x.Password).NotEmpty().MinimumLength(10);
        RuleFor(x => x.ConfirmPassword).Equal(x => x.Password).WithMessage("The two passwords differ.");
    }
}

/// <summary>What the invitation page offers the person holding the link.</summary>
internal enum InviteStep
{
    /// <summary>Unknown, used, revoked or expired: one message for all, so the page tells nothing about a token.</summary>
    NotValid,

    /// <summary>No account has the invited email: set a password to create it.</summary>
    CreateAccount,

    /// <summary>An account has the invited email: sign in to it first.</summary>
    SignIn,

    /// <summary>Signed in to the invited account: accept.</summary>
    Accept,

    /// <summary>Signed in to another account: refused.</summary>
    OtherAccount,
}

/// <summary>
/// /invite/{token}: the link an owner or admin made on the Members page and sent to the person. Holding the link lets one
/// join as the invited email only: by creating that account when none exists, or by being signed in to it. Nobody's
/// password is ever set here for an account that exists.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(RateLimitsSetup.PasswordFormsPolicy)]
internal sealed class InviteModel(OpsmeterDbContext db, UserManager<OpsmeterUser> users, SignInManager<OpsmeterUser> signIn,
    ILookupNormalizer normalizer, AuditLog audit, TimeProvider clock, IValidator<NewAccountForm> validator) : PageModel
{
    public const string NotValidMessage =
        "This invitation link is not valid. It may have expired, been used already or been revoked. Ask whoever invited you for a new link.";

    [BindProperty]
    public NewAccountForm Form { get; set; } = new();

    public InviteStep Step { get; private set; }

    public OpenInvitation? Invitation { get; private set; }

    /// <summary>The account this request is signed in to, if any.</summary>
    public string? SignedInAs { get; private set; }

    /// <summary>The sign-in page, coming back here afterwards.</summary>
    public string SignInLink => $"/account/signin?returnUrl={Uri.EscapeDataString(Request.Path.Value ?? "/")}";

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct)
    {
        await LoadAsync(token, ct);
        return Show();
    }

    public async Task<IActionResult> OnPostCreateAsync(string token, CancellationToken ct)
    {
        var user = await LoadAsync(token, ct);
        if (Step != InviteStep.CreateAccount || Invitation is null)
        {
            return Show();
        }

        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return Show();
        }

        var result = await AcceptInvitation.JoinAsNewAccountAsync(db, users, audit, clock, Invitation, Form.Password, ct);
        if (result is { Outcome: JoinOutcome.Joined, User: { } joined })
        {
            await signIn.SignInAsync(joined, isPersistent: false);
            return Joined(Invitation);
        }

        return await AfterRefusalAsync(token, result, user, ct);
    }

    public async Task<IActionResult> OnPostAcceptAsync(string token, CancellationToken ct)
    {
        var user = await LoadAsync(token, ct);
        if (Step != InviteStep.Accept || Invitation is null || user is null)
        {
            return Show();
        }

        var result = await AcceptInvitation.JoinAsync(db, audit, clock, Invitation, user, ct);
        return result.Outcome == JoinOutcome.Joined ? Joined(Invitation) : await AfterRefusalAsync(token, result, user, ct);
    }

    /// <summary>Finds the invitation and decides the step; returns the signed-in account, if any.</summary>
    private async Task<OpsmeterUser?> LoadAsync(string token, CancellationToken ct)
    {
        // The token is in this page's address: keep it out of any other site's Referer and out of caches.
        Response.Headers["Referrer-Policy"] = "no-referrer";
        Response.Headers.CacheControl = "no-store";
        var me = User.Identity?.IsAuthenticated == true ? await users.GetUserAsync(User) : null;
        SignedInAs = me?.Email;
        Invitation = await AcceptInvitation.FindOpenAsync(db, clock, token, ct);
        if (Invitation is null)
        {
            Step = InviteStep.NotValid;
            return me;
        }

        Step = me is not null ? (AcceptInvitation.IsFor(Invitation, me, normalizer) ? InviteStep.Accept : InviteStep.OtherAccount)
            : await users.FindByEmailAsync(Invitation.Email) is null ? InviteStep.CreateAccount
            : InviteStep.SignIn;
        return me;
    }

    private async Task<IActionResult> AfterRefusalAsync(string token, JoinResult result, OpsmeterUser? user, CancellationToken ct)
    {
        switch (result.Outcome)
        {
            case JoinOutcome.AlreadyMember:
                ModelState.AddModelError(string.Empty, $"{user?.Email} is already a member of {Invitation?.WorkspaceName}.");
                return Show();
            case JoinOutcome.AccountRefused when result.Errors is { } errors:
                foreach (var error in errors)
                {
                    ModelState.AddModelError(string.Empty, error.Description);
                }

                return Show();
            default:
                // Used, revoked or expired meanwhile, or the account appeared meanwhile: show the page as it is now.
                await LoadAsync(token, ct);
                return Show();
        }
    }

    private RedirectToPageResult Joined(OpenInvitation invitation)
    {
        CurrentWorkspace.Choose(HttpContext, invitation.WorkspaceId);
        return RedirectToPage("/Index", new { area = "Dashboard" });
    }

    private PageResult Show()
    {
        Response.StatusCode = Step switch
        {
            InviteStep.NotValid => StatusCodes.Status404NotFound,
            InviteStep.OtherAccount => StatusCodes.Status403Forbidden,
            _ => StatusCodes.Status200OK,
        };
        return Page();
    }
}
