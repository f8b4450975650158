using Npgsql;
using NpgsqlTypes;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// Writes a batch of events set-based, in one transaction: binary COPY into a session-local staging
/// table, then one <c>INSERT … ON CONFLICT DO NOTHING</c> into llm_requests. A direct COPY into
/// llm_requests would fail the whole batch on a single duplicate; staging keeps one duplicate from
/// failing its neighbours and tells which rows were new. Used only by <see cref="IngestWriter"/>'s loop,
/// so it keeps one connection open and is not thread-safe.
/// </summary>
internal sealed class IngestStore(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    // Column order of the COPY; WriteRowAsync writes the fields in exactly this order.
    private const string Columns =
        "workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version, user_id, tenant_id, " +
        "feature_tag, input_tokens, output_tokens, total_tokens, cached_input_tokens, cache_write_input_tokens, " +
        "reasoning_tokens, latency_ms, status, error_code, data_mode, environment, occurred_at, received_at, " +
        "client_cost_usd, cost_usd, cost_status, price_id, input_cost_usd, cached_input_cost_usd, cache_write_cost_usd, " +
        "output_cost_usd, reasoning_cost_usd, metadata";

    private const string CreateStaging =
        "CREATE TEMP TABLE IF NOT EXISTS ingest_staging (LIKE llm_requests INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";

    // The second SELECT reads the snapshot from before the INSERT, so it sees exactly the rows that
    // were stored already: the duplicates, with the cost they were stored with.
    private const string Merge = $"""
        WITH inserted AS (
            INSERT INTO llm_requests ({Columns})
            SELECT {Columns} FROM ingest_staging
            ON CONFLICT (workspace_id, external_request_id) DO NOTHING
            RETURNING workspace_id, external_request_id)
        SELECT workspace_id, external_request_id, false, NULL::numeric, NULL::text, NULL::uuid FROM inserted
        UNION ALL
        SELECT e.workspace_id, e.external_request_id, true, e.cost_usd, e.cost_status, e.price_id
        FROM ingest_staging s JOIN llm_requests e USING (workspace_id, external_request_id)
        """;

    // A row committed by another node after this statement's snapshot but before its INSERT is neither
    // inserted nor seen above; a fresh statement sees it.
    private const string Stored = """
        SELECT workspace_id, external_request_id, true, cost_usd, cost_status, price_id
        FROM llm_requests
        WHERE (workspace_id, external_request_id) IN (SELECT * FROM unnest(@workspaces, @ids))
        """;

    private NpgsqlConnection? connection;

    /// <summary>Stores <paramref name="rows"/> and returns one outcome per row, in order, after the commit.</summary>
    public async Task<IngestOutcome[]> WriteAsync(IReadOnlyList<LlmRequest> rows)
    {
        // The same externalRequestId twice in one batch (a client retrying quickly) is stored once;
        // the later copies answer as duplicates of the first.
        var firstIndex = new Dictionary<(Guid, string), int>(rows.Count);
        var unique = new List<LlmRequest>(rows.Count);
        foreach (var row in rows)
        {
            if (firstIndex.TryAdd((row.WorkspaceId, row.ExternalRequestId), unique.Count))
            {
                unique.Add(row);
            }
        }

        try
        {
            var stored = await WriteUniqueAsync(unique);
            var outcomes = new IngestOutcome[rows.Count];
            var answered = new HashSet<int>();
            for (var i = 0; i < rows.Count; i++)
            {
                var index = firstIndex[(rows[i].WorkspaceId, rows[i].ExternalRequestId)];
                var outcome = stored[index];
                outcomes[i] = answered.Add(index) ? outcome : outcome with { Duplicate = true };
            }

            return outcomes;
        }
        catch
        {
            // The connection's state is unknown after a failure; the next batch opens a fresh one.
            await DisposeAsync();
            throw;
        }
    }

    private async Task<IngestOutcome[]> WriteUniqueAsync(List<LlmRequest> rows)
    {
        var conn = await OpenAsync();
        await using var transaction = await conn.BeginTransactionAsync();
        await using (var importer = await conn.BeginBinaryImportAsync($"COPY ingest_staging ({Columns}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                await WriteRowAsync(importer, row);
            }

            await importer.CompleteAsync();
        }

        var outcomes = new IngestOutcome?[rows.Count];
        var index = new Dictionary<(Guid, string), int>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            index[(rows[i].WorkspaceId, rows[i].ExternalRequestId)] = i;
        }

        await using (var merge = new NpgsqlCommand(Merge, conn, transaction))
        {
            await ReadOutcomesAsync(merge, rows, index, outcomes);
        }

        var unseen = Enumerable.Range(0, rows.Count).Where(i => outcomes[i] is null).ToList();
        if (unseen.Count > 0)
        {
            await using var stored = new NpgsqlCommand(Stored, conn, transaction);
            stored.Parameters.AddWithValue("workspaces", unseen.Select(i => rows[i].WorkspaceId).ToArray());
            stored.Parameters.AddWithValue("ids", unseen.Select(i => rows[i].ExternalRequestId).ToArray());
            await ReadOutcomesAsync(stored, rows, index, outcomes);
        }

        await transaction.CommitAsync();
        return [.. outcomes.Select(o => o ?? throw new InvalidOperationException("An event was neither stored nor found."))];
    }

    private static async Task ReadOutcomesAsync(NpgsqlCommand command, List<LlmRequest> rows,
        Dictionary<(Guid, string), int> index, IngestOutcome?[] outcomes)
    {
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var i = index[(reader.GetGuid(0), reader.GetString(1))];
            var row = rows[i];
            outcomes[i] = reader.GetBoolean(2)
                ? new IngestOutcome(true, reader.GetDecimal(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetGuid(5))
                : new IngestOutcome(false, row.CostUsd, row.CostStatus, row.PriceId);
        }
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        if (connection is null)
        {
            connection = await dataSource.OpenConnectionAsync();
            await using var create = new NpgsqlCommand(CreateStaging, connection);
            await create.ExecuteNonQueryAsync();
        }

        return connection;
    }

    private static async Task WriteRowAsync(NpgsqlBinaryImporter importer, LlmRequest r)
    {
        await importer.StartRowAsync();
        await importer.WriteAsync(r.WorkspaceId, NpgsqlDbType.Uuid);
        await importer.WriteAsync(r.Id, NpgsqlDbType.Uuid);
        await importer.WriteAsync(r.ExternalRequestId, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.Provider, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.Model, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.EndpointTag, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.PromptVersion, NpgsqlDbType.Varchar);
        await WriteNullableAsync(importer, r.UserId, NpgsqlDbType.Varchar);
        await WriteNullableAsync(importer, r.TenantId, NpgsqlDbType.Varchar);
        await WriteNullableAsync(importer, r.FeatureTag, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.InputTokens, NpgsqlDbType.Bigint);
        await importer.WriteAsync(r.OutputTokens, NpgsqlDbType.Bigint);
        await importer.WriteAsync(r.TotalTokens, NpgsqlDbType.Bigint);
        await importer.WriteAsync(r.CachedInputTokens, NpgsqlDbType.Bigint);
        await importer.WriteAsync(r.CacheWriteInputTokens, NpgsqlDbType.Bigint);
        await importer.WriteAsync(r.ReasoningTokens, NpgsqlDbType.Bigint);
        await WriteNullableAsync(importer, r.LatencyMs, NpgsqlDbType.Integer);
        await importer.WriteAsync(r.Status, NpgsqlDbType.Varchar);
        await WriteNullableAsync(importer, r.ErrorCode, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.DataMode, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.Environment, NpgsqlDbType.Varchar);
        await importer.WriteAsync(r.OccurredAt, NpgsqlDbType.TimestampTz);
        await importer.WriteAsync(r.ReceivedAt, NpgsqlDbType.TimestampTz);
        await WriteNullableAsync(importer, r.ClientCostUsd, NpgsqlDbType.Numeric);
        await importer.WriteAsync(r.CostUsd, NpgsqlDbType.Numeric);
        await importer.WriteAsync(r.CostStatus, NpgsqlDbType.Varchar);
        await WriteNullableAsync(importer, r.PriceId, NpgsqlDbType.Uuid);
        await importer.WriteAsync(r.InputCostUsd, NpgsqlDbType.Numeric);
        await importer.WriteAsync(r.CachedInputCostUsd, NpgsqlDbType.Numeric);
        await importer.WriteAsync(r.CacheWriteCostUsd, NpgsqlDbType.Numeric);
        await importer.WriteAsync(r.OutputCostUsd, NpgsqlDbType.Numeric);
        await importer.WriteAsync(r.ReasoningCostUsd, NpgsqlDbType.Numeric);
        await WriteNullableAsync(importer, r.Metadata, NpgsqlDbType.Jsonb);
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type) where T : class =>
        value is null ? importer.WriteNullAsync() : importer.WriteAsync(value, type);

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type) where T : struct =>
        value is { } v ? importer.WriteAsync(v, type) : importer.WriteNullAsync();

    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
            connection = null;
        }
    }
}
