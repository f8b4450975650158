using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.RateLimits;

namespace Opsmeter.Web.Pages;

public sealed class SetupForm
{
    public string Email { get; set; } = "";
    public string Password { get; set; } = "";
    public string Workspace { get; set; } = "default";
    public string? Token { get; set; }
}

internal sealed class SetupFormValidator : AbstractValidator<SetupForm>
{
    public SetupFormValidator()
    {
        RuleFor(x => x.Email).NotEmpty().EmailAddress().MaximumLength(256);
        RuleFor(x => x.Password).NotEmpty().MinimumLength(10);
        RuleFor(x => x.Workspace).NotEmpty().MaximumLength(128);
        RuleFor(x => x.Token).MaximumLength(64);
    }
}

/// <summary>
/// First run: while no account exists, the person who holds the setup token (printed in the server's log; not asked
/// from this machine itself) creates the owner account and the first workspace. See <see cref="ClaimInstance"/>.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(RateLimitsSetup.PasswordFormsPolicy)]
internal sealed class SetupModel(SetupToken setupToken, ClaimInstance claim, SignInManager<OpsmeterUser> signIn, IValidator<SetupForm> validator)
    : PageModel
{
    [BindProperty]
    public SetupForm Form { get; set; } = new();

    /// <summary>The request comes from another machine (or through a proxy): the form asks for the setup token.</summary>
    public bool NeedsToken => !SetupToken.IsFromThisMachine(HttpContext);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) =>
        await setupToken.EnsureAsync(ct) is null ? RedirectToPage("/Account/SignIn") : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (await setupToken.EnsureAsync(ct) is null)
        {
            return RedirectToPage("/Account/SignIn");
        }

        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return Page();
        }

        if (NeedsToken && !await setupToken.MatchesAsync(Form.Token, ct))
        {
            ModelState.AddModelError($"{nameof(Form)}.{nameof(SetupForm.Token)}",
                "That is not this server's setup token. It is in the server's log (\"setup token\"), or run the setup-token command on the server.");
            var refused = Page();
            refused.StatusCode = StatusCodes.Status403Forbidden;
            return refused;
        }

        var result = await claim.RunAsync(Form.Email, Form.Password, Form.Workspace, ct);
        switch (result.Outcome)
        {
            case ClaimInstance.Outcome.AlreadyClaimed:
                return RedirectToPage("/Account/SignIn");
            case ClaimInstance.Outcome.WorkspaceNameTaken:
                ModelState.AddModelError($"{nameof(Form)}.{nameof(SetupForm.Workspace)}", result.Errors[0]);
                return Page();
            case ClaimInstance.Outcome.AccountRefused:
                foreach (var error in result.Errors)
                {
                    ModelState.AddModelError(string.Empty, error);
                }

                return Page();
        }

        await signIn.PasswordSignInAsync(Form.Email, Form.Password, isPersistent: true, lockoutOnFailure: false);
        return RedirectToPage("/Index", new { area = "Dashboard" });
    }
}
