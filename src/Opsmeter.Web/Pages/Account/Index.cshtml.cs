using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.RateLimits;

namespace Opsmeter.Web.Pages.Account;

public sealed class ChangePasswordForm
{
    public string CurrentPassword { get; set; } = "";
    public string NewPassword { get; set; } = "";
    public string ConfirmPassword { get; set; } = "";
}

internal sealed class ChangePasswordFormValidator : AbstractValidator<ChangePasswordForm>
{
    public ChangePasswordFormValidator()
    {
        RuleFor(x => x.CurrentPassword).NotEmpty();
        RuleFor(x => x.NewPassword).NotEmpty().MinimumLength(10)
            .NotEqual(x => x.CurrentPassword).WithMessage("The new password is the current one.");
        RuleFor(x => x.ConfirmPassword).Equal(x => x.NewPassword).WithMessage("The two new passwords differ.");
    }
}

/// <summary>
/// /account: the signed-in person's own account, and only theirs. Changing the password needs the current one; it and
/// "sign out other sessions" change the security stamp, which ends every other session at its next request
/// (AuthSetup validates the stamp on each request) while this one is signed in again with the new stamp.
/// </summary>
[Authorize(Policy = AuthSetup.DashboardPolicy)]
[EnableRateLimiting(RateLimitsSetup.PasswordFormsPolicy)]
internal sealed class IndexModel(UserManager<OpsmeterUser> users, SignInManager<OpsmeterUser> signIn, IValidator<ChangePasswordForm> validator)
    : PageModel
{
    [BindProperty]
    public ChangePasswordForm Form { get; set; } = new();

    public string Email { get; private set; } = "";

    [TempData]
    public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync() =>
        await CurrentUserAsync() is null ? Challenge() : Page();

    public async Task<IActionResult> OnPostPasswordAsync(CancellationToken ct)
    {
        if (await CurrentUserAsync() is not { } user)
        {
            return Challenge();
        }

        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return Page();
        }

        // Wrong current passwords count towards the lockout as at sign-in, so a session left open cannot be used to guess it.
        if (await users.IsLockedOutAsync(user))
        {
            ModelState.AddModelError(string.Empty, "Too many wrong passwords: this account is locked for a few minutes.");
            return Page();
        }

        var changed = await users.ChangePasswordAsync(user, Form.CurrentPassword, Form.NewPassword);
        if (!changed.Succeeded)
        {
            if (changed.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.PasswordMismatch)))
            {
                await users.AccessFailedAsync(user);
                ModelState.AddModelError(nameof(Form) + "." + nameof(Form.CurrentPassword), "That is not your current password.");
            }

            foreach (var error in changed.Errors.Where(e => e.Code != nameof(IdentityErrorDescriber.PasswordMismatch)))
            {
                ModelState.AddModelError(string.Empty, error.Description);
            }

            return Page();
        }

        await users.ResetAccessFailedCountAsync(user);
        await signIn.RefreshSignInAsync(user);
        Message = "Password changed. Your other sessions are signed out; this one stays signed in.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostSignOutOthersAsync()
    {
        if (await CurrentUserAsync() is not { } user)
        {
            return Challenge();
        }

        await users.UpdateSecurityStampAsync(user);
        await signIn.RefreshSignInAsync(user);
        Message = "Your other sessions are signed out; this one stays signed in.";
        return RedirectToPage();
    }

    private async Task<OpsmeterUser?> CurrentUserAsync()
    {
        var user = await users.GetUserAsync(User);
        Email = user?.Email ?? "";
        return user;
    }
}
