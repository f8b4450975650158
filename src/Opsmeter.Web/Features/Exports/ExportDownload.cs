using Microsoft.Extensions.Options;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Features.Exports;

/// <summary>
/// Every CSV download (API and dashboard) runs under <see cref="QueryOptions.ExportTimeout"/>: a client that reads too slowly,
/// or stops reading, cannot hold a database connection and a running query for ever. Past the timeout the query is cancelled,
/// its connection goes back to the pool, and the response is aborted, so the client sees an unfinished download, never a
/// complete-looking short file.
/// </summary>
internal static class ExportDownload
{
    public static async Task RunAsync(HttpContext http, string file, Func<CancellationToken, Task> write)
    {
        var services = http.RequestServices;
        var timeout = services.GetRequiredService<IOptions<QueryOptions>>().Value.ExportTimeout;
        using var deadline = new CancellationTokenSource(timeout, services.GetRequiredService<TimeProvider>());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, deadline.Token);
        try
        {
            await write(stop.Token);
        }
        catch (Exception) when (deadline.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExportDownload).FullName!).LogWarning(
                "The download {File} took longer than {ExportTimeout} and was stopped unfinished (Opsmeter:Queries:ExportTimeout)",
                file, timeout);
            http.Abort();
        }
    }
}
