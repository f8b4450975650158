using System.Globalization;
using System.Reflection;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Opsmeter.Web.Features.Exports;
using Opsmeter.Web.Infrastructure.Database;

namespace Opsmeter.Web.Features.Audit;

/// <summary>
/// Which entries the Audit page and its CSV show. <see cref="WorkspaceId"/> is the only scope: one workspace's entries,
/// or with null the instance's own (setup, workspaces, instance administrators, the global catalog), never both.
/// <see cref="From"/> and <see cref="To"/> are whole UTC days, both included.
/// </summary>
internal sealed record AuditFilter(Guid? WorkspaceId, string? Action = null, string? Actor = null, DateOnly? From = null, DateOnly? To = null)
{
    public bool IsEmpty => Action is null && Actor is null && From is null && To is null;
}

internal static class AuditQueries
{
    public static readonly string[] CsvColumns = ["at", "actor", "action", "target", "before", "after"];

    /// <summary>Every action <see cref="AuditActions"/> names, for the page's filter.</summary>
    public static readonly IReadOnlyList<string> Actions = [.. typeof(AuditActions).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).Order(StringComparer.Ordinal)];

    public static IQueryable<AuditEntry> Matching(this IQueryable<AuditEntry> entries, AuditFilter filter)
    {
        entries = filter.WorkspaceId is { } workspaceId ? entries.Where(a => a.WorkspaceId == workspaceId) : entries.Where(a => a.WorkspaceId == null);
        if (filter.Action is { } action)
        {
            entries = entries.Where(a => a.Action == action);
        }

        if (filter.Actor is { } actor)
        {
            var pattern = LikePatterns.Containing(actor);
            entries = entries.Where(a => EF.Functions.ILike(a.Actor, pattern));
        }

        if (filter.From is { } from)
        {
            var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            entries = entries.Where(a => a.At >= start);
        }

        if (filter.To is { } to)
        {
            var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            entries = entries.Where(a => a.At < end);
        }

        return entries;
    }

    /// <summary>
    /// Up to <paramref name="size"/> entries, newest first, older than the entry <paramref name="before"/> when given (keyset
    /// paging on the id, which grows with every entry), and whether there are older ones.
    /// </summary>
    public static async Task<(List<AuditEntry> Entries, bool HasOlder)> PageAsync(OpsmeterDbContext db, AuditFilter filter, long? before, int size,
        CancellationToken ct)
    {
        var entries = db.AuditLog.AsNoTracking().Matching(filter);
        if (before is { } id)
        {
            entries = entries.Where(a => a.Id < id);
        }

        var page = await entries.OrderByDescending(a => a.Id).Take(size + 1).ToListAsync(ct);
        return page.Count > size ? (page[..size], true) : (page, false);
    }

    /// <summary>
    /// Every matching entry, newest first, as CSV (<see cref="CsvColumns"/>), streamed from the database to
    /// <paramref name="output"/>; a cell a spreadsheet would run as a formula is escaped (<see cref="CsvExports.WriterOptions"/>).
    /// </summary>
    public static async Task WriteCsvAsync(OpsmeterDbContext db, AuditFilter filter, Stream output, CancellationToken ct)
    {
        await using var csv = CsvWriter.Create(output, CsvExports.WriterOptions, leaveOpen: true);
        csv.WriteHeader(CsvColumns);
        await foreach (var a in db.AuditLog.AsNoTracking().Matching(filter).OrderByDescending(a => a.Id).AsAsyncEnumerable().WithCancellation(ct))
        {
            csv.WriteField(a.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            csv.WriteField(a.Actor);
            csv.WriteField(a.Action);
            csv.WriteField(a.Target);
            csv.WriteField(a.Before);
            csv.WriteField(a.After);
            await csv.EndRecordAsync(ct);
        }

        await csv.FlushAsync(ct);
    }
}
