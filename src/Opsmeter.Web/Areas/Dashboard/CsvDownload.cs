using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.Exports;

namespace Opsmeter.Web.Areas.Dashboard;

/// <summary>A dashboard download: a CSV attachment written straight to the response body as it is produced.</summary>
internal sealed class CsvDownload(string fileName, Func<Stream, CancellationToken, Task> write) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.ContentType = ExportEndpoints.CsvContentType;
        response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = fileName }.ToString();
        await ExportDownload.RunAsync(context.HttpContext, fileName, ct => write(response.Body, ct));
    }
}
