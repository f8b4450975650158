using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class PriceBookOverridesAndAudit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "created_by",
                table: "model_prices",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "reason",
                table: "model_prices",
                type: "character varying(512)",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "retire_reason",
                table: "model_prices",
                type: "character varying(512)",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "retired_at",
                table: "model_prices",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "retired_by",
                table: "model_prices",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "price_audit",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    workspace_id = table.Column<Guid>(type: "uuid", nullable: true),
                    price_id = table.Column<Guid>(type: "uuid", nullable: false),
                    action = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    provider = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    model = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    actor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    before = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    after = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    reason = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_price_audit", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_price_audit_workspace_id_at",
                table: "price_audit",
                columns: new[] { "workspace_id", "at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "price_audit");

            migrationBuilder.DropColumn(
                name: "created_by",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "reason",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "retire_reason",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "retired_at",
                table: "model_prices");

            migrationBuilder.DropColumn(
                name: "retired_by",
                table: "model_prices");
        }
    }
}
