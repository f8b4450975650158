using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <summary>
    /// A registry of the events the rollup worker has not folded in yet: for each statement that inserts or updates
    /// llm_requests (whoever runs it), its transaction id and each workspace's oldest <c>occurred_at</c>. Usage queries read
    /// the tail from that time on instead of searching every daily partition; each rollup pass deletes what it folded.
    /// </summary>
    public partial class RollupPending : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                -- One row per transaction and workspace; the key serves a query's lookup, the second index the rollup pass's.
                CREATE TABLE rollup_pending (workspace_id uuid NOT NULL, ingest_xid bigint NOT NULL, oldest timestamptz NOT NULL,
                    CONSTRAINT pk_rollup_pending PRIMARY KEY (workspace_id, ingest_xid));
                CREATE INDEX ix_rollup_pending_ingest_xid ON rollup_pending (ingest_xid);

                CREATE FUNCTION rollup_pending_register() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO rollup_pending AS p (workspace_id, ingest_xid, oldest)
                    SELECT workspace_id, pg_current_xact_id()::text::bigint, min(occurred_at) FROM changed GROUP BY workspace_id
                    ON CONFLICT (workspace_id, ingest_xid) DO UPDATE SET oldest = least(p.oldest, EXCLUDED.oldest);
                    RETURN NULL;
                END $$;

                -- Statement triggers on the partitioned table see the rows of every partition; ingest_xid is the transaction's id.
                CREATE TRIGGER llm_requests_inserted_pending AFTER INSERT ON llm_requests
                    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION rollup_pending_register();
                CREATE TRIGGER llm_requests_updated_pending AFTER UPDATE ON llm_requests
                    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION rollup_pending_register();

                -- Events written before the triggers existed and not folded in yet (the triggers' lock waited for their writers;
                -- ingest waits for this statement, a search of each partition's ingest_xid index, as long as one rollup pass took).
                INSERT INTO rollup_pending (workspace_id, ingest_xid, oldest)
                SELECT r.workspace_id, r.ingest_xid, min(r.occurred_at)
                FROM llm_requests r
                WHERE r.ingest_xid >= (SELECT processed_below_xid FROM rollup_state WHERE name = 'usage')
                GROUP BY 1, 2;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER llm_requests_updated_pending ON llm_requests;
                DROP TRIGGER llm_requests_inserted_pending ON llm_requests;
                DROP FUNCTION rollup_pending_register();
                DROP TABLE rollup_pending;
                """);
        }
    }
}
