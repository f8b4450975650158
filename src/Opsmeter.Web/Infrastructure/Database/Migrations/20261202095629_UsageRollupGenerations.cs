using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <summary>
    /// A counter per workspace that every change to its rollup rows of finished days moves on (a fold of late events,
    /// re-pricing, retention, deleting demo or test data): usage queries keep the sums of those rows while it stands still.
    /// </summary>
    public partial class UsageRollupGenerations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("CREATE TABLE usage_rollup_generations (workspace_id uuid PRIMARY KEY, generation bigint NOT NULL);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE usage_rollup_generations;");
        }
    }
}
