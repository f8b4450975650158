using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <summary>
    /// The price book's further dimensions: 1-hour cache-write prices and service-tier rows in model_prices, and on each
    /// event its 1-hour cache writes, service tier and cost source. llm_requests is partitioned by day: ADD COLUMN on the
    /// parent reaches every partition, and with a constant default it rewrites none. Stored events get the cost source
    /// their row implies: the price row's owner for priced ones, client_reported where the client's cost was kept, null
    /// for unpriced ones.
    /// </summary>
    public partial class PriceBookTiersAndCostSource : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_model_prices_workspace_id_provider_model_effective_from",
                table: "model_prices");

            migrationBuilder.AddColumn<decimal>(
                name: "cache_write_1h_per_million_usd",
                table: "model_prices",
                type: "numeric(18,8)",
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "long_context_cache_write_1h_per_million_usd",
                table: "model_prices",
                type: "numeric(18,8)",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "service_tier",
                table: "model_prices",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "standard");

            migrationBuilder.AddColumn<long>(
                name: "cache_write_1h_input_tokens",
                table: "llm_requests",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "cost_source",
                table: "llm_requests",
                type: "character varying(24)",
                maxLength: 24,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "service_tier",
                table: "llm_requests",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "standard");

            migrationBuilder.CreateIndex(
                name: "ix_model_prices_workspace_id_provider_model_service_tier_effec",
                table: "model_prices",
                columns: new[] { "workspace_id", "provider", "model", "service_tier", "effective_from" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);

            migrationBuilder.Sql("""
                UPDATE llm_requests AS r SET cost_source = CASE
                    WHEN r.price_id IS NULL THEN 'client_reported'
                    WHEN EXISTS (SELECT FROM model_prices AS p WHERE p.id = r.price_id AND p.workspace_id IS NOT NULL) THEN 'override'
                    ELSE 'catalog' END
                WHERE r.price_id IS NOT NULL OR r.cost_status = 'client_reported';
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_model_prices_workspace_id_provider_model_service_tier_effec",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "cache_write_1h_per_million_usd",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "long_context_cache_write_1h_per_million_usd",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "service_tier",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "cache_write_1h_input_tokens",
                table: "llm_requests");

            migrationBuilder.DropColumn(
                name: "cost_source",
                table: "llm_requests");

            migrationBuilder.DropColumn(
                name: "service_tier",
                table: "llm_requests");

            migrationBuilder.CreateIndex(
                name: "ix_model_prices_workspace_id_provider_model_effective_from",
                table: "model_prices",
                columns: new[] { "workspace_id", "provider", "model", "effective_from" },
                unique: true)
                .Annotation("Npgsql:NullsDistinct", false);
        }
    }
}
