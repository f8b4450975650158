using Npgsql;
using NpgsqlTypes;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// Writes a batch of events set-based, in one statement: the batch travels as one binary array per
/// column, and <c>INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING</c> stores the new
/// rows and names them. A single statement is its own transaction: when it returns, its rows are
/// committed, with no BEGIN or COMMIT round trip. A plain COPY into llm_requests would fail the whole batch on a
/// single duplicate; this keeps one duplicate from failing its neighbours, needs no staging table, and
/// costs one round trip. Only when some rows were not inserted does a second query read the stored
/// duplicates' costs.
/// Used only by one <see cref="IngestWriter"/> loop, so it keeps one connection open and is not
/// thread-safe. Its calls are synchronous on purpose: the loop has a thread of its own, and an await
/// there would queue each database round trip behind every request waiting in the thread pool.
/// </summary>
internal sealed class IngestStore(NpgsqlDataSource dataSource, EventPartitions partitions) : IDisposable
{
    private const string Columns = """
        workspace_id, id, external_request_id, provider, model, endpoint_tag, prompt_version,
            user_id, tenant_id, feature_tag, input_tokens, output_tokens, total_tokens, cached_input_tokens,
            cache_write_input_tokens, reasoning_tokens, latency_ms, status, error_code, data_mode, environment,
            occurred_at, received_at, client_cost_usd, cost_usd, cost_status, price_id, input_cost_usd,
            cached_input_cost_usd, cache_write_cost_usd, output_cost_usd, reasoning_cost_usd, metadata
        """;

    // The keys are claimed first (ingest_keys holds the idempotency key across all partitions of llm_requests), and
    // only the rows whose key was new are stored: one statement, one transaction, one round trip.
    private const string InsertSql = $"""
        WITH batch ({Columns}) AS (
            SELECT * FROM unnest(@workspace_id, @id, @external_request_id, @provider, @model, @endpoint_tag, @prompt_version,
                @user_id, @tenant_id, @feature_tag, @input_tokens, @output_tokens, @total_tokens, @cached_input_tokens,
                @cache_write_input_tokens, @reasoning_tokens, @latency_ms, @status, @error_code, @data_mode, @environment,
                @occurred_at, @received_at, @client_cost_usd, @cost_usd, @cost_status, @price_id, @input_cost_usd,
                @cached_input_cost_usd, @cache_write_cost_usd, @output_cost_usd, @reasoning_cost_usd, @metadata)),
        claimed AS (
            INSERT INTO ingest_keys (workspace_id, external_request_id, occurred_at, received_at, cost_usd, cost_status, price_id)
            SELECT workspace_id, external_request_id, occurred_at, received_at, cost_usd, cost_status, price_id FROM batch
            ON CONFLICT (workspace_id, external_request_id) DO NOTHING
            RETURNING workspace_id, external_request_id)
        INSERT INTO llm_requests ({Columns})
        SELECT batch.* FROM batch JOIN claimed USING (workspace_id, external_request_id)
        RETURNING workspace_id, external_request_id
        """;

    // Run after the insert has committed, it sees every key that blocked an insert: stored before, or
    // committed meanwhile by another writer or node.
    private const string Stored = """
        SELECT workspace_id, external_request_id, cost_usd, cost_status, price_id
        FROM ingest_keys
        WHERE (workspace_id, external_request_id) IN (SELECT * FROM unnest(@workspaces, @ids))
        """;

    private NpgsqlConnection? connection;

    /// <summary>Stores <paramref name="rows"/> and returns one outcome per row, in order, after the commit.</summary>
    public IngestOutcome[] Write(IReadOnlyList<LlmRequest> rows)
    {
        // The same externalRequestId twice in one batch (a client retrying quickly) is stored once; the
        // later copies answer as duplicates of the first. Rows go in key order, so that two writers
        // inserting overlapping keys wait for each other instead of deadlocking.
        var unique = rows.DistinctBy(r => (r.WorkspaceId, r.ExternalRequestId))
            .OrderBy(r => r.WorkspaceId).ThenBy(r => r.ExternalRequestId, StringComparer.Ordinal)
            .ToList();
        try
        {
            var stored = WriteUnique(unique);
            var outcomes = new IngestOutcome[rows.Count];
            var answered = new HashSet<(Guid, string)>();
            for (var i = 0; i < rows.Count; i++)
            {
                var key = (rows[i].WorkspaceId, rows[i].ExternalRequestId);
                outcomes[i] = answered.Add(key) ? stored[key] : stored[key] with { Duplicate = true };
            }

            return outcomes;
        }
        catch
        {
            // The connection's state is unknown after a failure; the next batch opens a fresh one.
            Dispose();
            throw;
        }
    }

    private Dictionary<(Guid, string), IngestOutcome> WriteUnique(List<LlmRequest> rows)
    {
        connection ??= dataSource.OpenConnection();
        var outcomes = new Dictionary<(Guid, string), IngestOutcome>(rows.Count);
        partitions.EnsureFor(connection, rows);
        try
        {
            InsertRows(rows, outcomes);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation && e.TableName == "llm_requests")
        {
            // "No partition found for row": a day this process believed existed was dropped by the retention job.
            partitions.Forget();
            partitions.EnsureFor(connection, rows);
            InsertRows(rows, outcomes);
        }

        foreach (var row in rows)
        {
            if (outcomes.ContainsKey((row.WorkspaceId, row.ExternalRequestId)))
            {
                outcomes[(row.WorkspaceId, row.ExternalRequestId)] = new IngestOutcome(false, row.CostUsd, row.CostStatus, row.PriceId);
            }
        }

        if (outcomes.Count < rows.Count)
        {
            var blocked = rows.Where(r => !outcomes.ContainsKey((r.WorkspaceId, r.ExternalRequestId))).ToList();
            using var stored = new NpgsqlCommand(Stored, connection);
            stored.Parameters.Add(new NpgsqlParameter<Guid[]>("workspaces", [.. blocked.Select(r => r.WorkspaceId)]));
            stored.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. blocked.Select(r => r.ExternalRequestId)]));
            using var reader = stored.ExecuteReader();
            while (reader.Read())
            {
                outcomes[(reader.GetGuid(0), reader.GetString(1))] = new IngestOutcome(true, reader.GetDecimal(2),
                    reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetGuid(4));
            }
        }

        return outcomes.Count == rows.Count ? outcomes : throw new InvalidOperationException("An event was neither stored nor found.");
    }

    private void InsertRows(List<LlmRequest> rows, Dictionary<(Guid, string), IngestOutcome> outcomes)
    {
        using var insert = new NpgsqlCommand(InsertSql, connection);
        AddColumns(insert.Parameters, rows);
        using var reader = insert.ExecuteReader();
        while (reader.Read())
        {
            outcomes[(reader.GetGuid(0), reader.GetString(1))] = default;
        }
    }

    private static void AddColumns(NpgsqlParameterCollection p, List<LlmRequest> rows)
    {
        T[] Column<T>(Func<LlmRequest, T> value) => [.. rows.Select(value)];
        p.Add(new NpgsqlParameter<Guid[]>("workspace_id", Column(r => r.WorkspaceId)));
        p.Add(new NpgsqlParameter<Guid[]>("id", Column(r => r.Id)));
        p.Add(new NpgsqlParameter<string[]>("external_request_id", Column(r => r.ExternalRequestId)));
        p.Add(new NpgsqlParameter<string[]>("provider", Column(r => r.Provider)));
        p.Add(new NpgsqlParameter<string[]>("model", Column(r => r.Model)));
        p.Add(new NpgsqlParameter<string[]>("endpoint_tag", Column(r => r.EndpointTag)));
        p.Add(new NpgsqlParameter<string[]>("prompt_version", Column(r => r.PromptVersion)));
        p.Add(new NpgsqlParameter<string?[]>("user_id", Column(r => r.UserId)));
        p.Add(new NpgsqlParameter<string?[]>("tenant_id", Column(r => r.TenantId)));
        p.Add(new NpgsqlParameter<string?[]>("feature_tag", Column(r => r.FeatureTag)));
        p.Add(new NpgsqlParameter<long[]>("input_tokens", Column(r => r.InputTokens)));
        p.Add(new NpgsqlParameter<long[]>("output_tokens", Column(r => r.OutputTokens)));
        p.Add(new NpgsqlParameter<long[]>("total_tokens", Column(r => r.TotalTokens)));
        p.Add(new NpgsqlParameter<long[]>("cached_input_tokens", Column(r => r.CachedInputTokens)));
        p.Add(new NpgsqlParameter<long[]>("cache_write_input_tokens", Column(r => r.CacheWriteInputTokens)));
        p.Add(new NpgsqlParameter<long[]>("reasoning_tokens", Column(r => r.ReasoningTokens)));
        p.Add(new NpgsqlParameter<int?[]>("latency_ms", Column(r => r.LatencyMs)));
        p.Add(new NpgsqlParameter<string[]>("status", Column(r => r.Status)));
        p.Add(new NpgsqlParameter<string?[]>("error_code", Column(r => r.ErrorCode)));
        p.Add(new NpgsqlParameter<string[]>("data_mode", Column(r => r.DataMode)));
        p.Add(new NpgsqlParameter<string[]>("environment", Column(r => r.Environment)));
        p.Add(new NpgsqlParameter<DateTimeOffset[]>("occurred_at", Column(r => r.OccurredAt)));
        p.Add(new NpgsqlParameter<DateTimeOffset[]>("received_at", Column(r => r.ReceivedAt)));
        p.Add(new NpgsqlParameter<decimal?[]>("client_cost_usd", Column(r => r.ClientCostUsd)));
        p.Add(new NpgsqlParameter<decimal[]>("cost_usd", Column(r => r.CostUsd)));
        p.Add(new NpgsqlParameter<string[]>("cost_status", Column(r => r.CostStatus)));
        p.Add(new NpgsqlParameter<Guid?[]>("price_id", Column(r => r.PriceId)));
        p.Add(new NpgsqlParameter<decimal[]>("input_cost_usd", Column(r => r.InputCostUsd)));
        p.Add(new NpgsqlParameter<decimal[]>("cached_input_cost_usd", Column(r => r.CachedInputCostUsd)));
        p.Add(new NpgsqlParameter<decimal[]>("cache_write_cost_usd", Column(r => r.CacheWriteCostUsd)));
        p.Add(new NpgsqlParameter<decimal[]>("output_cost_usd", Column(r => r.OutputCostUsd)));
        p.Add(new NpgsqlParameter<decimal[]>("reasoning_cost_usd", Column(r => r.ReasoningCostUsd)));
        p.Add(new NpgsqlParameter<string?[]>("metadata", Column(r => r.Metadata)) { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
    }

    public void Dispose()
    {
        connection?.Dispose();
        connection = null;
    }
}
