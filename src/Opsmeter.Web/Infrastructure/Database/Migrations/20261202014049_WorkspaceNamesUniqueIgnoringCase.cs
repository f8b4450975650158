using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class WorkspaceNamesUniqueIgnoringCase : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // "Acme" and "acme" are one name to a person: the app checks, and this index settles two creations at once.
            // An instance that already has two such names migrates without it (the app's check still applies to new names).
            migrationBuilder.Sql("""
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT lower(name) FROM workspaces GROUP BY lower(name) HAVING count(*) > 1) THEN
                        CREATE UNIQUE INDEX ux_workspaces_lower_name ON workspaces (lower(name));
                    END IF;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX IF EXISTS ux_workspaces_lower_name");
        }
    }
}
