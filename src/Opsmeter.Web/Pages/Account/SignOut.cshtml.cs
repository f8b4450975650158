using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.Web.Pages.Account;

internal sealed class SignOutModel(SignInManager<OpsmeterUser> signIn) : PageModel
{
    /// <summary>Signs out, then goes to <paramref name="returnUrl"/> if it is on this site (the invitation page), else to sign-in.</summary>
    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        await signIn.SignOutAsync();
        return Url.IsLocalUrl(returnUrl) ? LocalRedirect(returnUrl) : RedirectToPage("/Account/SignIn");
    }
}
