using Npgsql;
using NpgsqlTypes;
using Opsmeter.Web.Features.Events;

namespace Opsmeter.Web.Features.Ingest;

/// <summary>
/// Writes a batch of events set-based, in one statement: the batch travels as one binary array per
/// column, and <c>INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING</c> stores the new rows. A
/// single statement is its own transaction: when it returns, its rows are committed, with no BEGIN or
/// COMMIT round trip. A plain COPY into llm_requests would fail the whole batch on a single duplicate;
/// this keeps one duplicate from failing its neighbours, needs no staging table, and costs one round trip.
/// The statement answers only with the positions of the rows it did not store (none, normally); only
/// then does a second query read the stored duplicates' costs.
/// Used only by one <see cref="IngestWriter"/> loop, so it keeps one connection and its column buffers
/// between batches and is not thread-safe. Reusing the buffers matters: a commit carries thousands of
/// rows, and fresh arrays and dictionaries of that size per commit land on the large object heap and
/// force full garbage collections (docs/benchmarks.md). Its calls are synchronous on purpose: the loop
/// has a thread of its own, and an await there would queue each database round trip behind every
/// request waiting in the thread pool.
/// </summary>
internal sealed class IngestStore(NpgsqlDataSource dataSource) : IDisposable
{
    private readonly IColumn[] columns =
    [
        new Column<Guid>("workspace_id", r => r.WorkspaceId),
        new Column<Guid>("id", r => r.Id),
        new Column<string>("external_request_id", r => r.ExternalRequestId),
        new Column<string>("provider", r => r.Provider),
        new Column<string>("model", r => r.Model),
        new Column<string>("endpoint_tag", r => r.EndpointTag),
        new Column<string>("prompt_version", r => r.PromptVersion),
        new Column<string?>("user_id", r => r.UserId),
        new Column<string?>("tenant_id", r => r.TenantId),
        new Column<string?>("feature_tag", r => r.FeatureTag),
        new Column<long>("input_tokens", r => r.InputTokens),
        new Column<long>("output_tokens", r => r.OutputTokens),
        new Column<long>("total_tokens", r => r.TotalTokens),
        new Column<long>("cached_input_tokens", r => r.CachedInputTokens),
        new Column<long>("cache_write_input_tokens", r => r.CacheWriteInputTokens),
        new Column<long>("cache_write_1h_input_tokens", r => r.CacheWrite1hInputTokens),
        new Column<long>("reasoning_tokens", r => r.ReasoningTokens),
        new Column<int?>("latency_ms", r => r.LatencyMs),
        new Column<string>("status", r => r.Status),
        new Column<string?>("error_code", r => r.ErrorCode),
        new Column<string>("data_mode", r => r.DataMode),
        new Column<string>("environment", r => r.Environment),
        new Column<DateTimeOffset>("occurred_at", r => r.OccurredAt),
        new Column<DateTimeOffset>("received_at", r => r.ReceivedAt),
        new Column<decimal?>("client_cost_usd", r => r.ClientCostUsd),
        new Column<decimal>("cost_usd", r => r.CostUsd),
        new Column<string>("cost_status", r => r.CostStatus),
        new Column<string>("service_tier", r => r.ServiceTier),
        new Column<string?>("cost_source", r => r.CostSource),
        new Column<Guid?>("price_id", r => r.PriceId),
        new Column<decimal>("input_cost_usd", r => r.InputCostUsd),
        new Column<decimal>("cached_input_cost_usd", r => r.CachedInputCostUsd),
        new Column<decimal>("cache_write_cost_usd", r => r.CacheWriteCostUsd),
        new Column<decimal>("output_cost_usd", r => r.OutputCostUsd),
        new Column<decimal>("reasoning_cost_usd", r => r.ReasoningCostUsd),
        new Column<string?>("metadata", r => r.Metadata, NpgsqlDbType.Array | NpgsqlDbType.Jsonb),
    ];

    // Run after the insert has committed, it sees every key that blocked an insert: stored before, or
    // committed meanwhile by another writer or node.
    private const string StoredSql = """
        SELECT workspace_id, external_request_id, cost_usd, cost_status, price_id
        FROM ingest_keys
        WHERE (workspace_id, external_request_id) IN (SELECT * FROM unnest(@workspaces, @ids))
        """;

    private readonly List<LlmRequest> unique = [];
    private readonly List<int> notStored = [];
    private NpgsqlConnection? connection;
    private string? insertSql;

    /// <summary>Stores <paramref name="rows"/> and returns one outcome per row, in order, after the commit.</summary>
    public IngestOutcome[] Write(IReadOnlyList<LlmRequest> rows)
    {
        // The same externalRequestId twice in one batch (a client retrying quickly) is stored once; the
        // later copies answer as duplicates of the first. Rows go in key order, so that two writers
        // inserting overlapping keys wait for each other instead of deadlocking: sorting positions by
        // (key, position) puts each key's copies side by side, its first copy leading.
        var order = new int[rows.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => CompareKeys(rows[a], rows[b]) is var byKey and not 0 ? byKey : a.CompareTo(b));
        var uniqueIndexOf = new int[rows.Count];
        var leads = new bool[rows.Count];
        unique.Clear();
        foreach (var i in order)
        {
            leads[i] = unique.Count == 0 || CompareKeys(unique[^1], rows[i]) != 0;
            if (leads[i])
            {
                unique.Add(rows[i]);
            }

            uniqueIndexOf[i] = unique.Count - 1;
        }

        try
        {
            var stored = WriteUnique();
            var outcomes = new IngestOutcome[rows.Count];
            for (var i = 0; i < outcomes.Length; i++)
            {
                var outcome = stored[uniqueIndexOf[i]];
                outcomes[i] = leads[i] ? outcome : outcome with { Duplicate = true };
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

    private static int CompareKeys(LlmRequest a, LlmRequest b) =>
        a.WorkspaceId.CompareTo(b.WorkspaceId) is var byWorkspace and not 0
            ? byWorkspace
            : string.CompareOrdinal(a.ExternalRequestId, b.ExternalRequestId);

    /// <summary>Inserts <see cref="unique"/> and answers, by its positions, each row's outcome.</summary>
    private IngestOutcome[] WriteUnique()
    {
        // The days' partitions exist: each request made sure of its own before it was queued (EventPartitions). This loop
        // never runs DDL: a day missing after all fails the statement, and IngestWriter answers its request alone with 503.
        connection ??= dataSource.OpenConnection();
        Insert();

        var outcomes = new IngestOutcome[unique.Count];
        for (var u = 0; u < outcomes.Length; u++)
        {
            var row = unique[u];
            outcomes[u] = new IngestOutcome(false, row.CostUsd, row.CostStatus, row.PriceId);
        }

        if (notStored.Count > 0)
        {
            ReadStored(outcomes);
        }

        return outcomes;
    }

    private void Insert()
    {
        using var insert = new NpgsqlCommand(insertSql ??= BuildInsertSql(columns), connection);
        foreach (var column in columns)
        {
            insert.Parameters.Add(column.Fill(unique));
        }

        notStored.Clear();
        using var reader = insert.ExecuteReader();
        while (reader.Read())
        {
            notStored.Add((int)reader.GetInt64(0) - 1);
        }
    }

    /// <summary>The rows whose key was already claimed answer as duplicates, with the stored event's cost.</summary>
    private void ReadStored(IngestOutcome[] outcomes)
    {
        var positions = notStored.ToDictionary(u => (unique[u].WorkspaceId, unique[u].ExternalRequestId));
        using var stored = new NpgsqlCommand(StoredSql, connection);
        stored.Parameters.Add(new NpgsqlParameter<Guid[]>("workspaces", [.. notStored.Select(u => unique[u].WorkspaceId)]));
        stored.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. notStored.Select(u => unique[u].ExternalRequestId)]));
        using var reader = stored.ExecuteReader();
        while (reader.Read())
        {
            var u = positions.Remove((reader.GetGuid(0), reader.GetString(1)), out var position)
                ? position
                : throw new InvalidOperationException("The database answered for a key it was not asked about.");
            outcomes[u] = new IngestOutcome(true, reader.GetDecimal(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetGuid(4));
        }

        if (positions.Count > 0)
        {
            throw new InvalidOperationException("An event was neither stored nor found.");
        }
    }

    // The keys are claimed first (ingest_keys holds the idempotency key across all partitions of
    // llm_requests), and only the rows whose key was new are stored. The answer names the positions of
    // the rows that were not, so a batch without duplicates reads back nothing at all.
    private static string BuildInsertSql(IColumn[] columns)
    {
        var names = string.Join(", ", columns.Select(c => c.Name));
        // Positional parameters: Npgsql sends such SQL as it is, without parsing it for names on every commit.
        var parameters = string.Join(", ", columns.Select((_, i) => "$" + (i + 1)));
        return $"""
            WITH batch AS (
                SELECT * FROM unnest({parameters}) WITH ORDINALITY AS b ({names}, position)),
            claimed AS (
                INSERT INTO ingest_keys (workspace_id, external_request_id, occurred_at, received_at, cost_usd, cost_status, price_id)
                SELECT workspace_id, external_request_id, occurred_at, received_at, cost_usd, cost_status, price_id FROM batch
                ON CONFLICT (workspace_id, external_request_id) DO NOTHING
                RETURNING workspace_id, external_request_id),
            stored AS (
                INSERT INTO llm_requests ({names})
                SELECT {names} FROM batch JOIN claimed USING (workspace_id, external_request_id))
            SELECT position FROM batch
            WHERE NOT EXISTS (SELECT FROM claimed
                WHERE claimed.workspace_id = batch.workspace_id AND claimed.external_request_id = batch.external_request_id)
            """;
    }

    public void Dispose()
    {
        connection?.Dispose();
        connection = null;
    }

    private interface IColumn
    {
        string Name { get; }

        NpgsqlParameter Fill(List<LlmRequest> rows);
    }

    /// <summary>One column's values, sent as one binary array; the list is kept and refilled for each batch.</summary>
    private sealed class Column<T>(string name, Func<LlmRequest, T> value, NpgsqlDbType? type = null) : IColumn
    {
        private readonly List<T> values = [];

        public string Name => name;

        public NpgsqlParameter Fill(List<LlmRequest> rows)
        {
            values.Clear();
            foreach (var row in rows)
            {
                values.Add(value(row));
            }

            var parameter = new NpgsqlParameter<List<T>> { TypedValue = values };
            if (type is { } dbType)
            {
                parameter.NpgsqlDbType = dbType;
            }

            return parameter;
        }
    }
}
