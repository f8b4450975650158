using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Opsmeter.IntegrationTests.Infrastructure;
using Opsmeter.LoadTest;
using Opsmeter.Web.Features.Audit;
using Opsmeter.Web.Features.Members;

namespace Opsmeter.IntegrationTests.Features.Workspaces;

[Collection(SharedApp.Name)]
public sealed class WorkspaceCommandTests(OpsmeterApp app)
{
    [Fact]
    public async Task Workspace_create_makes_an_existing_account_its_owner_and_refuses_a_taken_name()
    {
        var home = await app.CreateWorkspaceAsync();
        var (email, _) = await DashboardUser.CreatePersonAsync(app, home.Id, WorkspaceRoles.Member);
        var name = "cli-" + Guid.NewGuid().ToString("N")[..8];

        var (created, stdout, stderr) = await RunAsync("workspace", "create", name, "--owner", email.ToUpperInvariant());
        var (taken, _, takenError) = await RunAsync("workspace", "create", name.ToUpperInvariant(), "--owner", email);
        var (listed, list, _) = await RunAsync("workspace", "list");

        Assert.True(created == 0, stderr);
        Assert.Contains($"Created workspace '{name}'", stdout, StringComparison.Ordinal);
        var workspace = await app.WithDbAsync(db => db.Workspaces.SingleAsync(w => w.Name == name));
        var owner = await app.WithDbAsync(db => db.WorkspaceMembers.Where(m => m.WorkspaceId == workspace.Id)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new { u.Email, m.Role }).SingleAsync());
        Assert.Equal((email, WorkspaceRoles.Owner), (owner.Email, owner.Role));
        Assert.False(await app.WithDbAsync(db => db.Invitations.AnyAsync(i => i.WorkspaceId == workspace.Id)));
        var entry = await app.WithDbAsync(db => db.AuditLog.SingleAsync(a => a.Action == AuditActions.WorkspaceCreated && a.Target == $"{name} ({workspace.Id})"));
        Assert.Null(entry.WorkspaceId);
        Assert.StartsWith("cli:", entry.Actor, StringComparison.Ordinal);

        Assert.Equal(1, taken);
        Assert.Contains("exists", takenError, StringComparison.Ordinal);
        Assert.Equal(0, listed);
        var row = Assert.Single(list.Split('\n'), line => line.StartsWith(name + " ", StringComparison.Ordinal));
        Assert.Contains(workspace.Id.ToString(), row, StringComparison.Ordinal);
        Assert.EndsWith(email, row.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workspace_create_for_an_email_without_account_stores_an_owner_invitation_by_its_token_hash()
    {
        var name = "invited-" + Guid.NewGuid().ToString("N")[..8];
        var email = $"{Guid.NewGuid():N}@Example.test";

        var (exitCode, stdout, stderr) = await RunAsync("workspace", "create", name, "--owner", email);

        Assert.True(exitCode == 0, stderr);
        var lines = stdout.Trim().Split('\n').Select(l => l.Trim()).ToList();
        var path = lines[^1];
        Assert.StartsWith("/invite/", path, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("server's address", StringComparison.Ordinal));
        var token = path["/invite/".Length..];
        Assert.True(token.Length >= 22, token); // at least 128 random bits
        var workspace = await app.WithDbAsync(db => db.Workspaces.SingleAsync(w => w.Name == name));
        var invitation = await app.WithDbAsync(db => db.Invitations.SingleAsync(i => i.WorkspaceId == workspace.Id));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), invitation.TokenHash);
        Assert.Equal((email, WorkspaceRoles.Owner, Guid.Empty), (invitation.Email, invitation.Role, invitation.InvitedBy));
        Assert.Equal(TimeSpan.FromDays(7), invitation.ExpiresAt - invitation.CreatedAt);
        Assert.Null(invitation.AcceptedAt);
        Assert.False(await app.WithDbAsync(db => db.WorkspaceMembers.AnyAsync(m => m.WorkspaceId == workspace.Id)));
    }

    [Theory]
    [InlineData("workspace", "create", "no-owner")]
    [InlineData("workspace", "create", "--owner", "x@example.test")]
    [InlineData("workspace", "create", "bad-owner", "--owner", "not-an-email")]
    [InlineData("workspace", "create", "   ", "--owner", "x@example.test")]
    public async Task Workspace_create_without_a_name_or_a_valid_owner_is_a_usage_error(params string[] args)
    {
        var (exitCode, stdout, _) = await RunAsync(args);

        Assert.Equal(2, exitCode);
        Assert.Equal("", stdout.Trim());
    }

    private Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args) =>
        OpsmeterProcess.RunAsync(new Dictionary<string, string?> { ["ConnectionStrings__Opsmeter"] = app.ConnectionString }, args);
}
