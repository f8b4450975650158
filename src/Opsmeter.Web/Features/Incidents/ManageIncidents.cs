using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Infrastructure.Auth;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Incidents;

public sealed record IncidentResponse(Guid Id, Guid BudgetId, string BudgetName, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd,
    string Level, decimal Threshold, string State, DateTimeOffset OpenedAt, DateTimeOffset? EscalatedAt, DateTimeOffset? AcknowledgedAt,
    string? AcknowledgedBy, DateTimeOffset? ResolvedAt, string? Note)
{
    internal static IncidentResponse From(Incident i) => new(i.Id, i.BudgetId, i.BudgetName, i.PeriodStart, i.PeriodEnd, i.Level, Pricing.Money.Normalize(i.Threshold),
        i.State, i.OpenedAt, i.EscalatedAt, i.AcknowledgedAt, i.AcknowledgedBy, i.ResolvedAt, i.Note);
}

public sealed record IncidentNoteRequest(string? Note);

/// <summary>The incidents inbox for <c>/v1/incidents</c> and the dashboard: list, acknowledge, resolve (who, when, a note).</summary>
internal static class ManageIncidents
{
    public const int MaxNoteLength = 2000;

    public static IQueryable<Incident> Query(OpsmeterDbContext db, Guid workspaceId, string? state) =>
        db.Incidents.AsNoTracking()
            .Where(i => i.WorkspaceId == workspaceId && (state == null || i.State == state))
            .OrderByDescending(i => i.OpenedAt).ThenByDescending(i => i.Id);

    /// <summary>Moves an incident to acknowledged or resolved. Resolving is final; acknowledging a resolved one is refused.</summary>
    public static async Task<Incident?> ChangeAsync(OpsmeterDbContext db, TimeProvider clock, Guid workspaceId, Guid id, string to, string who,
        string? note, CancellationToken ct)
    {
        var incident = await db.Incidents.SingleOrDefaultAsync(i => i.Id == id && i.WorkspaceId == workspaceId, ct);
        if (incident is null || incident.State == IncidentStates.Resolved || incident.State == to)
        {
            return incident; // resolved is final; acknowledging twice keeps the first who and when
        }

        var now = clock.GetUtcNow();
        if (to == IncidentStates.Acknowledged)
        {
            (incident.State, incident.AcknowledgedAt, incident.AcknowledgedBy) = (to, now, who);
        }
        else
        {
            (incident.State, incident.ResolvedAt, incident.ResolvedBy) = (to, now, who);
        }

        if (!string.IsNullOrWhiteSpace(note))
        {
            incident.Note = note.Trim()[..Math.Min(note.Trim().Length, MaxNoteLength)];
        }

        await db.SaveChangesAsync(ct);
        return incident;
    }

    public static async Task<Results<Ok<List<IncidentResponse>>, ValidationProblem>> ListAsync(string? state, ClaimsPrincipal user,
        OpsmeterDbContext db, CancellationToken ct)
    {
        if (state is not null && !IncidentStates.All.Contains(state))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["state"] = [$"state must be one of: {string.Join(", ", IncidentStates.All)}."] });
        }

        var incidents = await Query(db, user.WorkspaceId(), state).Take(500).ToListAsync(ct);
        return TypedResults.Ok(incidents.ConvertAll(IncidentResponse.From));
    }

    public static Task<Results<Ok<IncidentResponse>, NotFound, ProblemHttpResult, ValidationProblem>> AcknowledgeAsync(Guid id,
        IncidentNoteRequest? body, ClaimsPrincipal user, OpsmeterDbContext db, TimeProvider clock, CancellationToken ct) =>
        ChangeViaApiAsync(id, IncidentStates.Acknowledged, body, user, db, clock, ct);

    public static Task<Results<Ok<IncidentResponse>, NotFound, ProblemHttpResult, ValidationProblem>> ResolveAsync(Guid id,
        IncidentNoteRequest? body, ClaimsPrincipal user, OpsmeterDbContext db, TimeProvider clock, CancellationToken ct) =>
        ChangeViaApiAsync(id, IncidentStates.Resolved, body, user, db, clock, ct);

    private static async Task<Results<Ok<IncidentResponse>, NotFound, ProblemHttpResult, ValidationProblem>> ChangeViaApiAsync(Guid id,
        string to, IncidentNoteRequest? body, ClaimsPrincipal user, OpsmeterDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (body?.Note is { Length: > MaxNoteLength })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["note"] = [$"note takes up to {MaxNoteLength} characters."] });
        }

        var who = "api-key:" + user.FindFirstValue(ApiKeyAuthenticationHandler.KeyPrefixClaim);
        var before = await db.Incidents.AsNoTracking().Where(i => i.Id == id && i.WorkspaceId == user.WorkspaceId()).Select(i => i.State).SingleOrDefaultAsync(ct);
        if (before == IncidentStates.Resolved)
        {
            return TypedResults.Problem(title: "Incident already resolved", detail: "A resolved incident is final.", statusCode: StatusCodes.Status409Conflict);
        }

        var incident = await ChangeAsync(db, clock, user.WorkspaceId(), id, to, who, body?.Note, ct);
        return incident is null ? TypedResults.NotFound() : TypedResults.Ok(IncidentResponse.From(incident));
    }
}
