using FluentValidation;
using FluentValidation.AspNetCore;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opsmeter.Web.Features.FirstRun;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Workspaces;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Pages;

public sealed class SetupForm
{
    public string Email { get; set; } = "";
    public string Password { get; set; } = "";
    public string Workspace { get; set; } = "default";
}

internal sealed class SetupFormValidator : AbstractValidator<SetupForm>
{
    public SetupFormValidator()
    {
        RuleFor(x => x.Email).NotEmpty().EmailAddress().MaximumLength(256);
        RuleFor(x => x.Password).NotEmpty().MinimumLength(10);
        RuleFor(x => x.Workspace).NotEmpty().MaximumLength(128);
    }
}

/// <summary>First run: only while no account exists, the first person creates the owner account and the first workspace.</summary>
[AllowAnonymous]
internal sealed class SetupModel(OpsmeterDbContext db, UserManager<OpsmeterUser> users, SignInManager<OpsmeterUser> signIn,
    IValidator<SetupForm> validator, TimeProvider clock) : PageModel
{
    [BindProperty]
    public SetupForm Form { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) =>
        await CreateOwner.AnyoneAsync(db, ct) ? RedirectToPage("/Account/SignIn") : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (await CreateOwner.AnyoneAsync(db, ct))
        {
            return RedirectToPage("/Account/SignIn");
        }

        var validation = await validator.ValidateAsync(Form, ct);
        if (!validation.IsValid)
        {
            validation.AddToModelState(ModelState, nameof(Form));
            return Page();
        }

        // The bootstrap workspace ("default") already exists on a fresh server: adopt it rather than fail on its name.
        var (workspace, _) = await CreateWorkspace.FindOrCreateAsync(db, clock, Form.Workspace, ct);

        var created = await CreateOwner.HandleAsync(users, db, clock, Form.Email, Form.Password, workspace.Id);
        if (!created.Succeeded)
        {
            foreach (var error in created.Errors)
            {
                ModelState.AddModelError(string.Empty, error.Description);
            }

            return Page();
        }

        await signIn.PasswordSignInAsync(Form.Email, Form.Password, isPersistent: true, lockoutOnFailure: false);
        return RedirectToPage("/Index", new { area = "Dashboard" });
    }
}
