using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Exports;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Areas.Dashboard.Pages;

/// <summary>
/// The dashboard's download buttons: requests.csv, summary.csv and finance-pack.csv for the current workspace and
/// the page's filters, written by the same code as <c>/v1/exports</c> (signed-in people, not API keys).
/// </summary>
internal sealed class ExportModel(CurrentWorkspace current, NpgsqlDataSource db, TimeProvider clock, IOptions<QueryOptions> limits)
    : DashboardPageModel(current)
{
    public IActionResult OnGet(string file)
    {
        var workspaceId = Membership.WorkspaceId;
        var now = clock.GetUtcNow();
        if (file == "finance-pack.csv")
        {
            var (month, dataMode, monthErrors) = ExportEndpoints.ReadFinancePack(Request.Query, now);
            if (monthErrors.Count > 0)
            {
                return BadRequest(monthErrors);
            }

            var start = new DateTimeOffset(month.Year, month.Month, 1, 0, 0, 0, TimeSpan.Zero);
            return new CsvDownload(CsvExports.FileName(Membership.WorkspaceName, "finance-pack", start, start.AddMonths(1)),
                (body, ct) => CsvExports.WriteFinancePackAsync(db, workspaceId, month, dataMode, body, ct));
        }

        var (filter, groupBy, errors) = UsageFilterReader.Read(Request.Query, now, defaultGroupBy: "endpointTag");
        if (errors.Count > 0)
        {
            return BadRequest(errors);
        }

        // The file holds what the page showed: a range longer than a page reads is shortened the same way (and named so).
        filter = UsageFilterReader.Clamp(filter, limits.Value.MaxRange);

        return file switch
        {
            "requests.csv" => new CsvDownload(CsvExports.FileName(Membership.WorkspaceName, "requests", filter.From, filter.To),
                (body, ct) => CsvExports.WriteRequestsAsync(db, workspaceId, filter, body, ct)),
            "summary.csv" => new CsvDownload(CsvExports.FileName(Membership.WorkspaceName, $"summary-by-{groupBy}", filter.From, filter.To),
                (body, ct) => CsvExports.WriteSummaryAsync(db, workspaceId, filter, groupBy, body, ct)),
            _ => NotFound(),
        };
    }
}
