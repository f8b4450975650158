using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class WorkspaceLeadingKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_incidents_budgets_budget_id",
                table: "incidents");

            migrationBuilder.DropForeignKey(
                name: "fk_webhook_deliveries_webhook_channels_channel_id",
                table: "webhook_deliveries");

            migrationBuilder.DropPrimaryKey(
                name: "pk_webhook_deliveries",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "ix_webhook_deliveries_channel_id",
                table: "webhook_deliveries");

            migrationBuilder.DropPrimaryKey(
                name: "pk_webhook_channels",
                table: "webhook_channels");

            migrationBuilder.DropIndex(
                name: "ix_webhook_channels_workspace_id",
                table: "webhook_channels");

            migrationBuilder.DropPrimaryKey(
                name: "pk_incidents",
                table: "incidents");

            migrationBuilder.DropIndex(
                name: "ix_incidents_budget_id_period_start_opened_threshold",
                table: "incidents");

            migrationBuilder.DropPrimaryKey(
                name: "pk_budgets",
                table: "budgets");

            migrationBuilder.DropIndex(
                name: "ix_budgets_workspace_id",
                table: "budgets");

            migrationBuilder.AddPrimaryKey(
                name: "pk_webhook_deliveries",
                table: "webhook_deliveries",
                columns: new[] { "workspace_id", "id" });

            migrationBuilder.AddPrimaryKey(
                name: "pk_webhook_channels",
                table: "webhook_channels",
                columns: new[] { "workspace_id", "id" });

            migrationBuilder.AddPrimaryKey(
                name: "pk_incidents",
                table: "incidents",
                columns: new[] { "workspace_id", "id" });

            migrationBuilder.AddPrimaryKey(
                name: "pk_budgets",
                table: "budgets",
                columns: new[] { "workspace_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_workspace_id_channel_id",
                table: "webhook_deliveries",
                columns: new[] { "workspace_id", "channel_id" });

            migrationBuilder.CreateIndex(
                name: "ix_incidents_workspace_id_budget_id_period_start_opened_thresh",
                table: "incidents",
                columns: new[] { "workspace_id", "budget_id", "period_start", "opened_threshold" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_incidents_budgets_workspace_id_budget_id",
                table: "incidents",
                columns: new[] { "workspace_id", "budget_id" },
                principalTable: "budgets",
                principalColumns: new[] { "workspace_id", "id" },
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "fk_webhook_deliveries_webhook_channels_workspace_id_channel_id",
                table: "webhook_deliveries",
                columns: new[] { "workspace_id", "channel_id" },
                principalTable: "webhook_channels",
                principalColumns: new[] { "workspace_id", "id" },
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_incidents_budgets_workspace_id_budget_id",
                table: "incidents");

            migrationBuilder.DropForeignKey(
                name: "fk_webhook_deliveries_webhook_channels_workspace_id_channel_id",
                table: "webhook_deliveries");

            migrationBuilder.DropPrimaryKey(
                name: "pk_webhook_deliveries",
                table: "webhook_deliveries");

            migrationBuilder.DropIndex(
                name: "ix_webhook_deliveries_workspace_id_channel_id",
                table: "webhook_deliveries");

            migrationBuilder.DropPrimaryKey(
                name: "pk_webhook_channels",
                table: "webhook_channels");

            migrationBuilder.DropPrimaryKey(
                name: "pk_incidents",
                table: "incidents");

            migrationBuilder.DropIndex(
                name: "ix_incidents_workspace_id_budget_id_period_start_opened_thresh",
                table: "incidents");

            migrationBuilder.DropPrimaryKey(
                name: "pk_budgets",
                table: "budgets");

            migrationBuilder.AddPrimaryKey(
                name: "pk_webhook_deliveries",
                table: "webhook_deliveries",
                column: "id");

            migrationBuilder.AddPrimaryKey(
                name: "pk_webhook_channels",
                table: "webhook_channels",
                column: "id");

            migrationBuilder.AddPrimaryKey(
                name: "pk_incidents",
                table: "incidents",
                column: "id");

            migrationBuilder.AddPrimaryKey(
                name: "pk_budgets",
                table: "budgets",
                column: "id");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_channel_id",
                table: "webhook_deliveries",
                column: "channel_id");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_channels_workspace_id",
                table: "webhook_channels",
                column: "workspace_id");

            migrationBuilder.CreateIndex(
                name: "ix_incidents_budget_id_period_start_opened_threshold",
                table: "incidents",
                columns: new[] { "budget_id", "period_start", "opened_threshold" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_budgets_workspace_id",
                table: "budgets",
                column: "workspace_id");

            migrationBuilder.AddForeignKey(
                name: "fk_incidents_budgets_budget_id",
                table: "incidents",
                column: "budget_id",
                principalTable: "budgets",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "fk_webhook_deliveries_webhook_channels_channel_id",
                table: "webhook_deliveries",
                column: "channel_id",
                principalTable: "webhook_channels",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
