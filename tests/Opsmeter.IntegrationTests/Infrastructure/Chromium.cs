using Microsoft.Playwright;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>
/// Headless Chromium driven by Playwright: Debian's /usr/bin/chromium (which .ci/run installs), since
/// Playwright's own browser download cannot work on machines without internet. OPSMETER_CHROMIUM
/// points elsewhere. When OPSMETER_SCREENSHOTS names a folder, pages are also saved there as PNG.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private IPlaywright? playwright;
    private IBrowser? browser;

    public async Task InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("OPSMETER_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Browser tests need Chromium at {executable}: apt-get install -y chromium (or set OPSMETER_CHROMIUM).");
        }

        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
        });
    }

    public async Task<IPage> NewPageAsync(Uri baseAddress, int width = 1280, int height = 900)
    {
        var context = await browser!.NewContextAsync(new() { BaseURL = baseAddress.ToString().TrimEnd('/'), ViewportSize = new() { Width = width, Height = height } });
        return await context.NewPageAsync();
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("OPSMETER_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        }
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
        }

        playwright?.Dispose();
    }
}
