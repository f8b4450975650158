using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;
using Opsmeter.Web.Infrastructure.RateLimits;

namespace Opsmeter.Web.Pages.Account;

public sealed class SignInForm
{
    public string Email { get; set; } = "";
    public string Password { get; set; } = "";
    public bool RememberMe { get; set; }
}

internal sealed class SignInFormValidator : AbstractValidator<SignInForm>
{
    public SignInFormValidator()
    {
        RuleFor(x => x.Email).NotEmpty().EmailAddress();
        RuleFor(x => x.Password).NotEmpty();
    }
}

/// <summary>Cookie sign-in with ASP.NET Core Identity; five wrong passwords lock the account for five minutes.</summary>
[AllowAnonymous]
[EnableRateLimiting(RateLimitsSetup.PasswordFormsPolicy)]
internal sealed class SignInModel(OpsmeterDbContext db, SignInManager<OpsmeterUser> signIn, IValidator<SignInForm> validator) : PageModel
{
    [BindProperty]
    public SignInForm Form { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) =>
        await CreateOwner.AnyoneAsync(db, ct) ? Page() : RedirectToPage("/Setup");

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        // A "remember me" that is not a boolean would make the redrawn checkbox throw; it is simply not ticked.
        ModelState.Remove($"{nameof(Form)}.{nameof(Form.RememberMe)}");
        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return Page();
        }

        var result = await signIn.PasswordSignInAsync(Form.Email, Form.Password, Form.RememberMe, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/Dashboard");
        }

        ModelState.AddModelError(string.Empty, result.IsLockedOut
            ? "Too many failed attempts: this account is locked for a few minutes."
            : "That email and password do not match an account.");
        return Page();
    }
}
