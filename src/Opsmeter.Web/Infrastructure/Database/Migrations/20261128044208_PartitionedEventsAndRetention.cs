using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class PartitionedEventsAndRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "raw_retention_days",
                table: "workspaces",
                type: "integer",
                nullable: false,
                defaultValue: 30);

            migrationBuilder.AddColumn<int>(
                name: "rollup_retention_days",
                table: "workspaces",
                type: "integer",
                nullable: false,
                defaultValue: 400);

            migrationBuilder.CreateTable(
                name: "ingest_keys",
                columns: table => new
                {
                    workspace_id = table.Column<Guid>(type: "uuid", nullable: false),
                    external_request_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    cost_usd = table.Column<decimal>(type: "numeric(20,10)", nullable: false),
                    cost_status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    price_id = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_ingest_keys", x => new { x.workspace_id, x.external_request_id });
                });

            migrationBuilder.CreateIndex(
                name: "ix_ingest_keys_received_at",
                table: "ingest_keys",
                column: "received_at")
                .Annotation("Npgsql:IndexMethod", "brin");

            // EF cannot declare a partitioned table: llm_requests becomes one (range of occurred_at, a partition per
            // UTC day) by hand, keeping its columns, defaults and index names; the rows and their keys move across.
            migrationBuilder.Sql("""
                ALTER TABLE llm_requests RENAME TO llm_requests_unpartitioned;
                ALTER TABLE llm_requests_unpartitioned DROP CONSTRAINT pk_llm_requests;
                DROP INDEX ix_llm_requests_workspace_id_external_request_id, ix_llm_requests_workspace_id_occurred_at,
                    ix_llm_requests_unpriced, ix_llm_requests_ingest_xid;

                CREATE TABLE llm_requests (LIKE llm_requests_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)
                    PARTITION BY RANGE (occurred_at);
                ALTER TABLE llm_requests ADD CONSTRAINT pk_llm_requests PRIMARY KEY (workspace_id, id, occurred_at);
                CREATE INDEX ix_llm_requests_workspace_id_external_request_id ON llm_requests (workspace_id, external_request_id);
                CREATE INDEX ix_llm_requests_workspace_id_occurred_at ON llm_requests (workspace_id, occurred_at);
                CREATE INDEX ix_llm_requests_unpriced ON llm_requests (workspace_id, occurred_at) WHERE cost_status = 'unpriced';
                CREATE INDEX ix_llm_requests_ingest_xid ON llm_requests USING brin (ingest_xid);

                -- Creates the missing daily partitions from one UTC day to another, both included; returns how many.
                -- One caller at a time (ingest writers on several servers, the nightly job), so two never race for a day.
                -- A new partition is created empty and attached, which locks llm_requests only against other
                -- attaches and detaches, never against inserts or reads.
                CREATE FUNCTION ensure_llm_request_partitions(from_day date, to_day date) RETURNS integer
                LANGUAGE plpgsql AS $$
                DECLARE
                    d date := from_day;
                    created integer := 0;
                    partition text;
                BEGIN
                    PERFORM pg_advisory_xact_lock(hashtext('llm_requests partitions'));
                    WHILE d <= to_day LOOP
                        partition := 'llm_requests_p' || to_char(d, 'YYYYMMDD');
                        IF to_regclass(partition) IS NULL THEN
                            EXECUTE format('CREATE TABLE %I (LIKE llm_requests INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', partition);
                            EXECUTE format('ALTER TABLE llm_requests ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', partition,
                                d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
                            created := created + 1;
                        END IF;
                        d := d + 1;
                    END LOOP;
                    RETURN created;
                END $$;

                SELECT ensure_llm_request_partitions(days.day, days.day)
                FROM (SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date AS day FROM llm_requests_unpartitioned) AS days;
                SELECT ensure_llm_request_partitions((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7);

                INSERT INTO llm_requests SELECT * FROM llm_requests_unpartitioned;
                INSERT INTO ingest_keys (workspace_id, external_request_id, occurred_at, received_at, cost_usd, cost_status, price_id)
                SELECT workspace_id, external_request_id, occurred_at, received_at, cost_usd, cost_status, price_id FROM llm_requests_unpartitioned;
                DROP TABLE llm_requests_unpartitioned;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Back to one plain table with the unique key inside it (the rows of every partition move back).
            migrationBuilder.Sql("""
                CREATE TABLE llm_requests_plain (LIKE llm_requests INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE);
                INSERT INTO llm_requests_plain SELECT * FROM llm_requests;
                DROP TABLE llm_requests;
                DROP FUNCTION ensure_llm_request_partitions(date, date);
                ALTER TABLE llm_requests_plain RENAME TO llm_requests;
                ALTER TABLE llm_requests ADD CONSTRAINT pk_llm_requests PRIMARY KEY (workspace_id, id);
                CREATE UNIQUE INDEX ix_llm_requests_workspace_id_external_request_id ON llm_requests (workspace_id, external_request_id);
                CREATE INDEX ix_llm_requests_workspace_id_occurred_at ON llm_requests (workspace_id, occurred_at);
                CREATE INDEX ix_llm_requests_unpriced ON llm_requests (workspace_id, occurred_at) WHERE cost_status = 'unpriced';
                CREATE INDEX ix_llm_requests_ingest_xid ON llm_requests USING brin (ingest_xid);
                """);

            migrationBuilder.DropTable(
                name: "ingest_keys");

            migrationBuilder.DropColumn(
                name: "raw_retention_days",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "rollup_retention_days",
                table: "workspaces");
        }
    }
}
