using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.HttpOverrides;

namespace Opsmeter.Web.Infrastructure.Hosting;

/// <summary>Behind a TLS proxy: which proxies may say who the client is and that it came over HTTPS.</summary>
internal sealed class ForwardedHeadersSettings
{
    public const string Section = "Opsmeter:ForwardedHeaders";

    /// <summary>Addresses of the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed. Empty, with
    /// <see cref="KnownNetworks"/> empty too: loopback only (a proxy on this machine).</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks in CIDR notation (10.0.0.0/8) whose proxies are believed.</summary>
    public string[] KnownNetworks { get; set; } = [];
}

/// <summary>Forwarded headers from known proxies only, Secure cookies on HTTPS, and HSTS outside Development.</summary>
internal static class ProxySetup
{
    /// <summary>Setting that the site is only ever reached over HTTPS: cookies are then Secure even on a plain request.</summary>
    public const string HttpsOnlySetting = "Opsmeter:HttpsOnly";

    public static IHostApplicationBuilder AddOpsmeterProxyDefaults(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(ForwardedHeadersSettings.Section).Get<ForwardedHeadersSettings>() ?? new();
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            if (settings.KnownProxies.Length + settings.KnownNetworks.Length == 0)
            {
                return; // ASP.NET's default: loopback
            }

            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in settings.KnownProxies)
            {
                o.KnownProxies.Add(IPAddress.TryParse(proxy, out var address) ? address
                    : throw new InvalidSettingException($"{ForwardedHeadersSettings.Section}:KnownProxies holds '{proxy}', which is not an IP address."));
            }

            foreach (var network in settings.KnownNetworks)
            {
                o.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed) ? parsed
                    : throw new InvalidSettingException($"{ForwardedHeadersSettings.Section}:KnownNetworks holds '{network}', which is not a network such as 10.0.0.0/8."));
            }
        });

        // Antiforgery stays SameAsRequest even then: set to Always it refuses to work at all over plain HTTP.
        var httpsOnly = builder.Configuration.GetValue<bool>(HttpsOnlySetting);
        builder.Services.ConfigureAll<CookieAuthenticationOptions>(o =>
            o.Cookie.SecurePolicy = httpsOnly ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);
        builder.Services.Configure<AntiforgeryOptions>(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        return builder;
    }

    public static WebApplication UseOpsmeterProxyDefaults(this WebApplication app)
    {
        app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        return app;
    }
}

/// <summary>A setting that cannot be used; the message names it and says what it should look like.</summary>
internal sealed class InvalidSettingException(string message) : Exception(message);
