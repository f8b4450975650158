using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Features.Usage;

public sealed record MetricsResponse(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<UsageRow> Rows,
    UsageRow Totals, long UnpricedRequests);

/// <summary><c>GET /v1/metrics</c>: the dashboard's figures for machines, from the same <see cref="UsageQueries"/>.</summary>
internal static class GetMetrics
{
    public static async Task<Results<Ok<MetricsResponse>, ValidationProblem>> HandleAsync(HttpRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var (filter, groupBy, errors) = UsageFilterReader.Read(request.Query, clock.GetUtcNow(), defaultGroupBy: "endpointTag");
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var workspaceId = user.WorkspaceId();
        var rows = await UsageQueries.GroupAsync(db, workspaceId, filter, groupBy, limit: 1000, ct);
        var totals = await UsageQueries.TotalsAsync(db, workspaceId, filter, ct);
        return TypedResults.Ok(new MetricsResponse(filter.From, filter.To, groupBy, rows, totals, totals.UnpricedRequests));
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
