using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Usage;

/// <summary>
/// <c>Truncated</c>: there were more groups than <c>rows</c> holds (the largest by spend, or the first in time); the next
/// ones are read by sending <c>NextCursor</c> back as <c>cursor</c>. The totals count every group, whatever the page or search.
/// </summary>
public sealed record MetricsResponse(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<UsageRow> Rows,
    UsageRow Totals, long UnpricedRequests, bool Truncated, string? NextCursor);

/// <summary><c>GET /v1/metrics</c>: the dashboard's figures for machines, from the same <see cref="UsageQueries"/>.</summary>
internal static class GetMetrics
{
    public static async Task<Results<Ok<MetricsResponse>, ValidationProblem>> HandleAsync(HttpRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, TimeProvider clock, IOptions<QueryOptions> limits, CancellationToken ct)
    {
        var (filter, groupBy, errors) = UsageFilterReader.Read(request.Query, clock.GetUtcNow(), defaultGroupBy: "endpointTag");
        UsageFilterReader.Bound(filter, limits.Value.MaxRange, errors);
        var (limit, page) = ReadPage(request.Query, limits.Value.MaxGroups, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var workspaceId = user.WorkspaceId();
        // One row more than is answered tells whether there were more; the totals are a query of their own, over every group,
        // run alongside the groups on a connection of its own: the answer waits for the slower of the two, not their sum.
        var grouped = UsageQueries.GroupAsync(db, workspaceId, filter, groupBy, limit: limit + 1, ct, page);
        var totalled = UsageQueries.TotalsAsync(db, workspaceId, filter, ct);
        await Task.WhenAll(grouped, totalled);
        var (rows, totals) = (grouped.Result, totalled.Result);
        var truncated = rows.Count > limit;
        rows = [.. rows.Take(limit)];
        return TypedResults.Ok(new MetricsResponse(filter.From, filter.To, groupBy, rows, totals, totals.UnpricedRequests,
            truncated, truncated ? GroupCursor.After(rows[^1]).Encode() : null));
    }

    /// <summary><c>limit</c> (1 to the group limit, which is the default), <c>cursor</c> (a <c>nextCursor</c>) and <c>search</c>, with field errors.</summary>
    internal static (int Limit, GroupPage Page) ReadPage(IQueryCollection query, int maxGroups, Dictionary<string, string[]> errors)
    {
        var limit = maxGroups;
        if (query["limit"].ToString() is { Length: > 0 } text
            && !(int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) && limit >= 1 && limit <= maxGroups))
        {
            errors["limit"] = [$"limit must be a whole number from 1 to {maxGroups} (Opsmeter:Queries:MaxGroups)."];
        }

        GroupCursor? after = null;
        if (query["cursor"].ToString() is { Length: > 0 } cursor && (after = GroupCursor.Decode(cursor)) is null)
        {
            errors["cursor"] = ["cursor must be a nextCursor of an earlier answer, unchanged."];
        }

        var search = query["search"].ToString() is { Length: > 0 } s ? s : null;
        if (search is { Length: > GroupPage.MaxSearchLength } || search?.Contains('\0', StringComparison.Ordinal) == true)
        {
            errors["search"] = [$"search must be at most {GroupPage.MaxSearchLength} characters, without NUL."];
        }

        return (limit, new GroupPage(search, after));
    }
}

/// <summary>Reads the shared filter parameters (from, to, dataMode, environment, dimension values, groupBy) with field-keyed errors.</summary>
internal static class UsageFilterReader
{
    /// <summary>Presets for <c>?range=</c>, used when <c>from</c> is not given.</summary>
    public static readonly IReadOnlyDictionary<string, TimeSpan> Ranges = new Dictionary<string, TimeSpan>
    {
        ["24h"] = TimeSpan.FromHours(24),
        ["7d"] = TimeSpan.FromDays(7),
        ["30d"] = TimeSpan.FromDays(30),
        ["90d"] = TimeSpan.FromDays(90),
    };

    public static (UsageFilter Filter, string GroupBy, Dictionary<string, string[]> Errors) Read(IQueryCollection query, DateTimeOffset now, string defaultGroupBy)
    {
        var errors = new Dictionary<string, string[]>();
        var to = Time(query, "to", errors) ?? now;
        var from = Time(query, "from", errors) ?? to - (Ranges.TryGetValue(query["range"].ToString(), out var span) ? span : Ranges["7d"]);
        if (from >= to)
        {
            errors["from"] = ["from must be before to."];
        }

        var groupBy = query["groupBy"].ToString() is { Length: > 0 } g ? g : defaultGroupBy;
        if (!UsageQueries.Dimensions.ContainsKey(groupBy))
        {
            errors["groupBy"] = [$"groupBy must be one of: {string.Join(", ", UsageQueries.Dimensions.Keys)}."];
        }

        var dataMode = (query["dataMode"].ToString() is { Length: > 0 } m ? m : "real").ToLowerInvariant();
        if (!DataModes.All.Contains(dataMode))
        {
            errors["dataMode"] = [$"dataMode must be one of: {string.Join(", ", DataModes.All)}."];
        }

        var environment = query["environment"].ToString() is { Length: > 0 } e ? e.ToLowerInvariant() : null;
        if (environment is not null && !EventEnvironments.All.Contains(environment))
        {
            errors["environment"] = [$"environment must be one of: {string.Join(", ", EventEnvironments.All)}."];
        }

        var dimensions = UsageQueries.FilterNames
            .Where(name => query[name].ToString().Length > 0)
            .ToDictionary(name => name, name => query[name].ToString());
        // PostgreSQL text holds no NUL: refused here, or an export would fail after its 200 was sent.
        foreach (var name in dimensions.Keys.Where(name => dimensions[name].Contains('\0', StringComparison.Ordinal)))
        {
            errors[name] = [$"{name} must not contain a NUL character."];
        }

        return (new UsageFilter(from, to, dataMode, environment, dimensions, now), groupBy, errors);
    }

    /// <summary>
    /// For /v1: a range longer than <paramref name="maxRange"/> is refused with a field error under <paramref name="field"/>
    /// that names the maximum (a 400 problem), before any query runs.
    /// </summary>
    public static void Bound(UsageFilter filter, TimeSpan maxRange, Dictionary<string, string[]> errors, string field = "from")
    {
        if (filter.To - filter.From > maxRange && !errors.ContainsKey(field))
        {
            errors[field] = [string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The range is {(filter.To - filter.From).TotalDays:0.#} days long; at most {maxRange.TotalDays:0} days can be read at once (Opsmeter:Queries:MaxRangeDays).")];
        }
    }

    /// <summary>For the dashboard: a range longer than <paramref name="maxRange"/> is shortened to its last <paramref name="maxRange"/> (the filters bar says so).</summary>
    public static UsageFilter Clamp(UsageFilter filter, TimeSpan maxRange) =>
        filter.To - filter.From > maxRange ? filter with { From = filter.To - maxRange } : filter;

    /// <summary>An ISO-8601 instant from the query (UTC when it has no offset), null when absent; a bad one adds a field error.</summary>
    public static DateTimeOffset? Time(IQueryCollection query, string name, Dictionary<string, string[]> errors)
    {
        if (query[name].ToString() is not { Length: > 0 } text)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var value))
        {
            return value.ToUniversalTime();
        }

        errors[name] = [$"'{text}' is not an ISO-8601 timestamp."];
        return null;
    }
}
