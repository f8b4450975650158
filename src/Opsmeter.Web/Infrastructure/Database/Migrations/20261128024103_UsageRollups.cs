using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class UsageRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ingest_xid",
                table: "llm_requests",
                type: "bigint",
                nullable: false,
                defaultValueSql: "pg_current_xact_id()::text::bigint");

            migrationBuilder.CreateIndex(
                name: "ix_llm_requests_ingest_xid",
                table: "llm_requests",
                column: "ingest_xid")
                .Annotation("Npgsql:IndexMethod", "brin");

            // Hourly ('h') and daily ('d') sums per dimension value, kept by the rollup worker. lat_00..lat_15
            // count latencies per bucket (bounds in UsageRollupSql.LatencyBoundsMs) so p95 can be read from sums.
            migrationBuilder.Sql("""
                CREATE TABLE usage_rollups (
                    workspace_id uuid NOT NULL,
                    dimension varchar(16) NOT NULL,
                    period char(1) NOT NULL,
                    bucket timestamptz NOT NULL,
                    data_mode varchar(16) NOT NULL,
                    environment varchar(16) NOT NULL,
                    value varchar(128) NOT NULL,
                    requests bigint NOT NULL,
                    errors bigint NOT NULL,
                    input_tokens bigint NOT NULL,
                    output_tokens bigint NOT NULL,
                    cost_usd numeric(24,10) NOT NULL,
                    unpriced bigint NOT NULL,
                    latency_count bigint NOT NULL,
                    latency_sum_ms bigint NOT NULL,
                    lat_00 bigint NOT NULL DEFAULT 0,
                    lat_01 bigint NOT NULL DEFAULT 0,
                    lat_02 bigint NOT NULL DEFAULT 0,
                    lat_03 bigint NOT NULL DEFAULT 0,
                    lat_04 bigint NOT NULL DEFAULT 0,
                    lat_05 bigint NOT NULL DEFAULT 0,
                    lat_06 bigint NOT NULL DEFAULT 0,
                    lat_07 bigint NOT NULL DEFAULT 0,
                    lat_08 bigint NOT NULL DEFAULT 0,
                    lat_09 bigint NOT NULL DEFAULT 0,
                    lat_10 bigint NOT NULL DEFAULT 0,
                    lat_11 bigint NOT NULL DEFAULT 0,
                    lat_12 bigint NOT NULL DEFAULT 0,
                    lat_13 bigint NOT NULL DEFAULT 0,
                    lat_14 bigint NOT NULL DEFAULT 0,
                    lat_15 bigint NOT NULL DEFAULT 0,
                    PRIMARY KEY (workspace_id, dimension, period, bucket, data_mode, environment, value));
                CREATE TABLE rollup_state (name varchar(32) PRIMARY KEY, processed_below_xid bigint NOT NULL);
                INSERT INTO rollup_state VALUES ('usage', 0);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE usage_rollups; DROP TABLE rollup_state;");

            migrationBuilder.DropIndex(
                name: "ix_llm_requests_ingest_xid",
                table: "llm_requests");

            migrationBuilder.DropColumn(
                name: "ingest_xid",
                table: "llm_requests");
        }
    }
}
