using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class OccurredAtIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_llm_requests_workspace_id_occurred_at",
                table: "llm_requests",
                columns: new[] { "workspace_id", "occurred_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_llm_requests_workspace_id_occurred_at",
                table: "llm_requests");
        }
    }
}
