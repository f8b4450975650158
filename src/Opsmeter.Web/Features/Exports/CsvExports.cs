using System.Globalization;
using System.Text;
using CsvHelper;
using Npgsql;
using Opsmeter.Web.Features.Events;
using Opsmeter.Web.Features.Pricing;
using Opsmeter.Web.Features.Usage;

namespace Opsmeter.Web.Features.Exports;

/// <summary>
/// The CSV files of docs/api.md "Metrics, compare, exports", written with CsvHelper: RFC 4180, UTF-8, invariant
/// culture, and a text cell that starts with = + - @ tab or CR escaped with a leading ' so a spreadsheet
/// shows it instead of running it. The API and the dashboard's download buttons call the same methods.
/// </summary>
internal static class CsvExports
{
    public static readonly string[] RequestColumns =
    [
        "occurredAt", "externalRequestId", "provider", "model", "endpointTag", "promptVersion", "userId", "tenantId", "dataMode",
        "environment", "status", "errorCode", "inputTokens", "cachedInputTokens", "cacheWriteInputTokens", "outputTokens",
        "reasoningTokens", "totalTokens", "latencyMs", "costUsd", "costStatus",
    ];

    public static readonly string[] SummaryMeasures =
        ["requests", "errors", "inputTokens", "outputTokens", "costUsd", "costPerRequestUsd", "avgLatencyMs", "p95LatencyMs"];

    /// <summary>The key written for the totals row that ends a summary.</summary>
    public const string TotalKey = "(total)";

    /// <summary>Every CSV Opsmeter writes uses these: a cell that a spreadsheet would run as a formula is escaped.</summary>
    internal static readonly CsvWriterOptions WriterOptions = new() { Injection = CsvInjection.Escape };

    /// <summary>
    /// One row per event, oldest first, streamed from a server-side cursor: rows go to the response as they
    /// arrive (CsvHelper flushes its 64 KiB buffer asynchronously), so memory stays flat for any range.
    /// Returns the number of rows written.
    /// </summary>
    public static async Task<long> WriteRequestsAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, Stream output, CancellationToken ct)
    {
        var sql = new StringBuilder($"""
            SELECT occurred_at, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id, data_mode,
                   environment, status, error_code, input_tokens, cached_input_tokens, cache_write_input_tokens, output_tokens,
                   reasoning_tokens, total_tokens, latency_ms, cost_usd, cost_status
            FROM llm_requests
            WHERE workspace_id = @workspace AND occurred_at >= @from AND occurred_at < @to AND data_mode = @mode
            """);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand { Connection = connection };
        // Stopped (timeout, client gone) while the response is being written, the query is cancelled in PostgreSQL too, instead
        // of the reader draining the rest of the rows when it is disposed.
        await using var cancel = ct.Register(command.Cancel);
        UsageQueries.AddFilter(command, sql, workspaceId, filter);
        sql.Append(" ORDER BY occurred_at, id");
        command.CommandText = sql.ToString();

        await using var csv = CsvWriter.Create(output, WriterOptions, leaveOpen: true);
        csv.WriteHeader(RequestColumns);
        long rows = 0;
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);
        while (await reader.ReadAsync(ct))
        {
            csv.WriteField(reader.GetFieldValue<DateTimeOffset>(0));
            for (var i = 1; i <= 11; i++)
            {
                csv.WriteField(reader.IsDBNull(i) ? null : reader.GetString(i));
            }

            for (var i = 12; i <= 17; i++)
            {
                csv.WriteField(reader.GetInt64(i), default);
            }

            csv.WriteField(reader.IsDBNull(18) ? null : (int?)reader.GetInt32(18), default);
            csv.WriteField(Money.Normalize(reader.GetDecimal(19)), default);
            csv.WriteField(reader.GetString(20));
            await csv.EndRecordAsync(ct);
            rows++;
        }

        await csv.FlushAsync(ct);
        return rows;
    }

    /// <summary>
    /// One row per value of <paramref name="groupBy"/> with the metrics columns, from the same queries as the
    /// dashboard, then a totals row: every group is written (no top-N), so the rows add up to the totals. The groups are
    /// streamed from PostgreSQL as they are written, never held all at once.
    /// </summary>
    public static async Task WriteSummaryAsync(NpgsqlDataSource db, Guid workspaceId, UsageFilter filter, string groupBy, Stream output,
        CancellationToken ct)
    {
        var totals = await UsageQueries.TotalsAsync(db, workspaceId, filter, ct);
        await using var csv = CsvWriter.Create(output, WriterOptions, leaveOpen: true);
        csv.WriteHeader([groupBy, .. SummaryMeasures]);
        await foreach (var row in UsageQueries.StreamGroupsAsync(db, workspaceId, filter, groupBy, ct).Append(totals with { Key = TotalKey }))
        {
            csv.WriteField(row.Key);
            csv.WriteField(row.Requests, default);
            csv.WriteField(row.Errors, default);
            csv.WriteField(row.InputTokens, default);
            csv.WriteField(row.OutputTokens, default);
            csv.WriteField(row.CostUsd, default);
            csv.WriteField(row.CostPerRequestUsd, default);
            csv.WriteField(row.AvgLatencyMs, default);
            csv.WriteField(row.P95LatencyMs, default);
            await csv.EndRecordAsync(ct);
        }

        await csv.FlushAsync(ct);
    }

    /// <summary>
    /// The monthly finance pack: for one calendar month (UTC), spend by endpoint, by tenant and by model, each
    /// section ending with the month's total, so every section adds up to the same figure.
    /// </summary>
    public static async Task WriteFinancePackAsync(NpgsqlDataSource db, Guid workspaceId, DateOnly month, string dataMode, Stream output,
        CancellationToken ct)
    {
        var from = new DateTimeOffset(month.Year, month.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var filter = new UsageFilter(from, from.AddMonths(1), dataMode);
        var totals = await UsageQueries.TotalsAsync(db, workspaceId, filter, ct);
        await using var csv = CsvWriter.Create(output, WriterOptions, leaveOpen: true);
        csv.WriteHeader(["month", "dimension", "key", "requests", "inputTokens", "outputTokens", "costUsd", "shareOfSpend"]);
        foreach (var dimension in new[] { Dimensions.EndpointTag.Name, Dimensions.TenantId.Name, Dimensions.Model.Name })
        {
            await foreach (var row in UsageQueries.StreamGroupsAsync(db, workspaceId, filter, dimension, ct).Append(totals with { Key = TotalKey }))
            {
                csv.WriteField(month.ToString("yyyy-MM", CultureInfo.InvariantCulture));
                csv.WriteField(dimension);
                csv.WriteField(row.Key);
                csv.WriteField(row.Requests, default);
                csv.WriteField(row.InputTokens, default);
                csv.WriteField(row.OutputTokens, default);
                csv.WriteField(row.CostUsd, default);
                csv.WriteField(totals.CostUsd == 0 ? 0m : Math.Round(row.CostUsd / totals.CostUsd, 4), default);
                await csv.EndRecordAsync(ct);
            }
        }

        await csv.FlushAsync(ct);
    }

    /// <summary>"opsmeter-acme-requests-20261101T0000-20261128T1200.csv": says which workspace and which range.</summary>
    public static string FileName(string workspaceName, string kind, DateTimeOffset from, DateTimeOffset to) =>
        string.Create(CultureInfo.InvariantCulture,
            $"opsmeter-{Slug(workspaceName)}-{kind}-{from.UtcDateTime:yyyyMMdd'T'HHmm}-{to.UtcDateTime:yyyyMMdd'T'HHmm}.csv");

    /// <summary>"Acme Corp" → "acme-corp": a name as it can stand in a file name.</summary>
    public static string Slug(string name)
    {
        var slug = new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        return slug.Length == 0 ? "workspace" : slug;
    }
}
