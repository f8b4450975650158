using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Opsmeter.Web.Infrastructure.Database.Migrations
{
    /// <inheritdoc />
    public partial class InstanceAdministrators : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "is_instance_admin",
                table: "users",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            // An existing instance's first account becomes its administrator, as a new instance's first account does.
            migrationBuilder.Sql("UPDATE users SET is_instance_admin = true WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1)");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "is_instance_admin",
                table: "users");
        }
    }
}
