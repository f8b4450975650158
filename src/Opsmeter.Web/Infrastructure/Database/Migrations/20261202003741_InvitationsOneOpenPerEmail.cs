using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class InvitationsOneOpenPerEmail : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // One open invitation per person and workspace: a new one revokes the open one first (same transaction), and
            // two created at the same moment cannot both stay open. An expression index (upper(email), as Identity
            // compares emails case-insensitively), which the EF model cannot describe, so it lives only here.
            migrationBuilder.Sql("""
                CREATE UNIQUE INDEX ix_invitations_open_email ON invitations (workspace_id, upper(email))
                    WHERE accepted_at IS NULL AND revoked_at IS NULL;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_invitations_open_email;");
        }
    }
}
