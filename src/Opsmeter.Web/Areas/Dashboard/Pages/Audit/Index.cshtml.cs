using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Exports;
using Opsmeter.Web.Features.Members;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Areas.Dashboard.Pages.Audit;

/// <summary>
/// Who changed what in the workspace, newest first, 100 a page, filtered by action, actor and UTC days, and as CSV. Owners
/// and admins only. Instance administrators may switch to the instance's own entries (<c>?scope=instance</c>), which
/// anyone else is refused (403); the workspace view is always the current workspace's, whatever the query string says.
/// </summary>
[ManagersOnly]
internal sealed class IndexModel(CurrentWorkspace current, OpsmeterDbContext db, TimeProvider clock) : DashboardPageModel(current)
{
    public const int PageSize = 100;
    public const string InstanceScope = "instance";

    /// <summary>The query parameters of a view: they travel with the pager and the CSV link.</summary>
    private static readonly string[] ViewParameters = ["scope", "action", "actor", "from", "to"];

    public override string Nav => "audit";

    public AuditFilter Filter { get; private set; } = null!;
    public bool Instance => Filter.WorkspaceId is null;
    public bool IsInstanceAdmin { get; private set; }
    public List<AuditEntry> Entries { get; private set; } = [];
    public bool HasOlder { get; private set; }
    public long? Before { get; private set; }

    /// <summary>Filter values that could not be read (a date typed wrong): shown, and left out of the filter.</summary>
    public List<string> Errors { get; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (await ReadFilterAsync(ct) is { } refused)
        {
            return refused;
        }

        Before = long.TryParse(Request.Query["before"], NumberStyles.None, CultureInfo.InvariantCulture, out var before) ? before : null;
        (Entries, HasOlder) = await AuditQueries.PageAsync(db, Filter, Before, PageSize, ct);
        return Page();
    }

    /// <summary>Every entry the filters match, not only this page's.</summary>
    public async Task<IActionResult> OnGetCsvAsync(CancellationToken ct)
    {
        if (await ReadFilterAsync(ct) is { } refused)
        {
            return refused;
        }

        var name = string.Create(CultureInfo.InvariantCulture,
            $"opsmeter-{(Instance ? "instance" : CsvExports.Slug(Membership.WorkspaceName))}-audit-{clock.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmm}.csv");
        var filter = Filter;
        return new CsvDownload(name, (body, token) => AuditQueries.WriteCsvAsync(db, filter, body, token));
    }

    /// <summary>This page's link with the current view's filters, changed by <paramref name="changes"/> (a null value drops one).</summary>
    public string Link(string? handler = null, params (string Name, string? Value)[] changes)
    {
        var values = ViewParameters.Where(p => Request.Query[p].ToString().Length > 0).ToDictionary(p => p, p => (string?)Request.Query[p].ToString());
        foreach (var (name, value) in changes)
        {
            values[name] = value;
        }

        if (handler is not null)
        {
            values["handler"] = handler;
        }

        var path = Url.Page("/Audit/Index", new { area = Area })!;
        return path + QueryString.Create(values.Where(v => v.Value is { Length: > 0 }));
    }

    /// <summary>The filter of this request, or the refusal of an instance view to someone who does not administer the instance.</summary>
    private async Task<IActionResult?> ReadFilterAsync(CancellationToken ct)
    {
        IsInstanceAdmin = await InstanceAdmins.IsAsync(db, User, ct);
        var instance = Request.Query["scope"] == InstanceScope;
        if (instance && !IsInstanceAdmin)
        {
            return new ContentResult
            {
                StatusCode = StatusCodes.Status403Forbidden,
                ContentType = "text/plain; charset=utf-8",
                Content = "The instance's audit log is for instance administrators. Your workspace's log is at /Dashboard/Audit.",
            };
        }

        var action = Request.Query["action"].ToString();
        var actor = Request.Query["actor"].ToString().Trim();
        Filter = new AuditFilter(instance ? null : Membership.WorkspaceId,
            AuditQueries.Actions.Contains(action) ? action : null, actor.Length > 0 ? actor : null, Day("from"), Day("to"));
        return null;
    }

    private DateOnly? Day(string parameter)
    {
        var text = Request.Query[parameter].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day;
        }

        Errors.Add($"'{text}' is not a day (yyyy-MM-dd): the {parameter} filter is left out.");
        return null;
    }
}
