using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Infrastructure.Auth;

/// <summary>
/// Two ways in, never mixed on one route: machines send an API key to <c>/v1</c> (policies per scope),
/// people sign in with an Identity cookie for the dashboard (policy <see cref="DashboardPolicy"/>).
/// </summary>
internal static class AuthSetup
{
    public const string DashboardPolicy = "dashboard";

    /// <summary>Signed in and owner or admin of at least one workspace: the Hangfire job dashboard.</summary>
    public const string JobsPolicy = "jobs";

    private const string ByPath = "ApiKeyOrCookie";

    public static IHostApplicationBuilder AddOpsmeterAuth(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddMemoryCache(o => o.SizeLimit = 100_000);
        // One key ring for every node, in the database: sign-in cookies, antiforgery tokens and webhook secrets.
        var dataProtection = services.AddDataProtection().SetApplicationName("Opsmeter").PersistKeysToDbContext<OpsmeterDbContext>();
        ProtectKeyRing(dataProtection, builder.Configuration);
        services.AddAuthentication(ByPath)
            // Every request is authenticated once up front with the default scheme: an API key under /v1, the
            // sign-in cookie elsewhere, so an ingest request never builds a cookie handler it cannot use.
            .AddPolicyScheme(ByPath, null, o => o.ForwardDefaultSelector = http =>
                http.Request.Path.StartsWithSegments("/v1") ? ApiKeyAuthenticationHandler.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();
        services.AddIdentityCore<OpsmeterUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                // Length, not composition rules (NIST SP 800-63B): a long passphrase beats "Passw0rd!".
                o.Password.RequiredLength = 10;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireDigit = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireLowercase = false;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
            })
            .AddEntityFrameworkStores<OpsmeterDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/account/signin";
            o.LogoutPath = "/account/signout";
            o.AccessDeniedPath = "/account/denied";
            o.Cookie.Name = "opsmeter";
            o.SlidingExpiration = true;
        });
        // The security stamp of the account is checked on every request that carries the sign-in cookie (each dashboard
        // page, not only every 30 minutes as by default): a password change or "sign out other sessions" (the account
        // page) changes the stamp, so every other session ends at its very next request. The price, per such request: two
        // indexed reads (the user by primary key, then its claims, to rebuild the principal) and a renewed cookie.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.Zero);

        var authorization = services.AddAuthorizationBuilder()
            .AddPolicy(DashboardPolicy, policy => policy
                .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme)
                .RequireAuthenticatedUser())
            .AddPolicy(JobsPolicy, policy => policy
                .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme)
                .RequireAuthenticatedUser()
                // The recurring jobs serve every workspace: only instance administrators may trigger or delete them.
                .RequireAssertion(async context => context.Resource is HttpContext http
                    && await InstanceAdmins.IsAsync(http.RequestServices.GetRequiredService<OpsmeterDbContext>(), context.User, http.RequestAborted)));
        foreach (var scope in ApiKeyScopes.All)
        {
            authorization.AddPolicy(ApiKeyScopes.Policy(scope), policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope));
        }

        return builder;
    }

    /// <summary>
    /// With <c>Opsmeter:DataProtection:Certificate</c> (a PKCS#12 file; <c>…:CertificatePassword</c>), new keys of the ring are
    /// stored encrypted with that certificate, so a copy of the database alone does not open sign-in cookies or webhook
    /// secrets. <c>Opsmeter:DataProtection:PreviousCertificates</c> (comma-separated files, same password) keeps keys
    /// written under an earlier certificate readable while it is rotated out (docs/security.md).
    /// </summary>
    private static void ProtectKeyRing(IDataProtectionBuilder dataProtection, IConfiguration configuration)
    {
        var section = configuration.GetSection("Opsmeter:DataProtection");
        if (section["Certificate"] is not { Length: > 0 } path)
        {
            return;
        }

        var password = section["CertificatePassword"];
        var current = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        var previous = (section["PreviousCertificates"] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(file => X509CertificateLoader.LoadPkcs12FromFile(file, password));
        dataProtection.ProtectKeysWithCertificate(current).UnprotectKeysWithAnyCertificate([current, .. previous]);
    }
}
