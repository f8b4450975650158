using System.Globalization;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.ApiKeys;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Usage;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Exports;

internal static class ExportEndpoints
{
    public const string CsvContentType = "text/csv; charset=utf-8";

    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder app)
    {
        var exports = app.MapGroup("/v1/exports").WithTags("Exports")
            .RequireAuthorization(ApiKeyScopes.Policy(ApiKeyScopes.Read));
        exports.MapGet("/requests.csv", RequestsAsync).WithName("ExportRequests")
            .WithSummary("One row per event (same filters as /v1/metrics), streamed.").Produces(200, contentType: "text/csv");
        exports.MapGet("/summary.csv", SummaryAsync).WithName("ExportSummary")
            .WithSummary("One row per ?groupBy= value with the metrics columns, then a (total) row.").Produces(200, contentType: "text/csv");
        exports.MapGet("/finance-pack.csv", FinancePackAsync).WithName("ExportFinancePack")
            .WithSummary("?month=yyyy-MM (UTC): spend by endpoint, tenant and model, each section with the month's total.").Produces(200, contentType: "text/csv");
        return app;
    }

    private static async Task<IResult> RequestsAsync(HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db, OpsmeterDbContext context,
        TimeProvider clock, IOptions<QueryOptions> limits)
    {
        var (filter, _, errors) = UsageFilterReader.Read(http.Request.Query, clock.GetUtcNow(), defaultGroupBy: "endpointTag");
        UsageFilterReader.Bound(filter, limits.Value.MaxRange, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var workspaceId = user.WorkspaceId();
        var name = CsvExports.FileName(await WorkspaceNameAsync(context, workspaceId), "requests", filter.From, filter.To);
        await SayWhereRawEventsBeginAsync(http, context, workspaceId, filter, clock);
        return Results.Stream(body => ExportDownload.RunAsync(http, name, ct => CsvExports.WriteRequestsAsync(db, workspaceId, filter, body, ct)),
            CsvContentType, name);
    }

    private static async Task<IResult> SummaryAsync(HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db, OpsmeterDbContext context,
        TimeProvider clock, IOptions<QueryOptions> limits)
    {
        var (filter, groupBy, errors) = UsageFilterReader.Read(http.Request.Query, clock.GetUtcNow(), defaultGroupBy: "endpointTag");
        UsageFilterReader.Bound(filter, limits.Value.MaxRange, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var workspaceId = user.WorkspaceId();
        var name = CsvExports.FileName(await WorkspaceNameAsync(context, workspaceId), $"summary-by-{groupBy}", filter.From, filter.To);
        await SayWhereRawEventsBeginAsync(http, context, workspaceId, filter, clock);
        return Results.Stream(body => ExportDownload.RunAsync(http, name, ct => CsvExports.WriteSummaryAsync(db, workspaceId, filter, groupBy, body, ct)),
            CsvContentType, name);
    }

    private static async Task<IResult> FinancePackAsync(HttpContext http, ClaimsPrincipal user, NpgsqlDataSource db, OpsmeterDbContext context,
        TimeProvider clock)
    {
        var (month, dataMode, errors) = ReadFinancePack(http.Request.Query, clock.GetUtcNow());
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var workspaceId = user.WorkspaceId();
        var from = new DateTimeOffset(month.Year, month.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var name = CsvExports.FileName(await WorkspaceNameAsync(context, workspaceId), "finance-pack", from, from.AddMonths(1));
        return Results.Stream(body => ExportDownload.RunAsync(http, name, ct => CsvExports.WriteFinancePackAsync(db, workspaceId, month, dataMode, body, ct)),
            CsvContentType, name);
    }

    /// <summary>?month=yyyy-MM (default: the previous month, the one finance closes) and ?dataMode (default real).</summary>
    public static (DateOnly Month, string DataMode, Dictionary<string, string[]> Errors) ReadFinancePack(IQueryCollection query, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        var previous = DateOnly.FromDateTime(now.UtcDateTime).AddMonths(-1);
        var month = new DateOnly(previous.Year, previous.Month, 1);
        if (query["month"].ToString() is { Length: > 0 } text)
        {
            if (DateOnly.TryParseExact(text, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                month = parsed;
            }
            else
            {
                errors["month"] = [$"'{text}' is not a month in the form yyyy-MM."];
            }
        }

        var dataMode = query["dataMode"].ToString() is { Length: > 0 } m ? m.ToLowerInvariant() : "real";
        if (!DataModes.All.Contains(dataMode))
        {
            errors["dataMode"] = [$"dataMode must be one of: {string.Join(", ", DataModes.All)}."];
        }

        return (month, dataMode, errors);
    }

    /// <summary>
    /// A range that starts before the workspace's raw retention gets <c>Opsmeter-Raw-Events-From</c>: rows before it are gone
    /// (requests.csv) or come from daily rollups (summary.csv).
    /// </summary>
    private static async Task SayWhereRawEventsBeginAsync(HttpContext http, OpsmeterDbContext db, Guid workspaceId, UsageFilter filter, TimeProvider clock)
    {
        var days = await db.Workspaces.Where(w => w.Id == workspaceId).Select(w => w.RawRetentionDays).SingleAsync();
        var rawFrom = Retention.RetentionRules.RawCutoff(clock.GetUtcNow(), days);
        if (filter.From < rawFrom)
        {
            http.Response.Headers[RawEventsFromHeader] = rawFrom.ToString("O", CultureInfo.InvariantCulture);
        }
    }

    public const string RawEventsFromHeader = "Opsmeter-Raw-Events-From";

    public static Task<string> WorkspaceNameAsync(OpsmeterDbContext db, Guid workspaceId) =>
        db.Workspaces.Where(w => w.Id == workspaceId).Select(w => w.Name).SingleAsync();
}
