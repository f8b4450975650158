namespace Opsmeter.Web.Features.Audit;

/// <summary>What an <see cref="AuditEntry"/> records: a noun and what happened to it. The audit page filters by these.</summary>
internal static class AuditActions
{
    public const string KeyCreated = "key.created";
    public const string KeyRevoked = "key.revoked";
    public const string MemberRoleChanged = "member.role_changed";
    public const string MemberRemoved = "member.removed";
    public const string MemberJoined = "member.joined";
    public const string InvitationCreated = "invitation.created";
    public const string InvitationRevoked = "invitation.revoked";
    public const string BudgetCreated = "budget.created";
    public const string BudgetChanged = "budget.changed";
    public const string BudgetDeleted = "budget.deleted";
    public const string ChannelCreated = "channel.created";
    public const string ChannelChanged = "channel.changed";
    public const string ChannelDeleted = "channel.deleted";
    public const string RetentionChanged = "retention.changed";
    public const string PolicyModeChanged = "policy_mode.changed";
    public const string OverrideAdded = "override.added";
    public const string OverrideRetired = "override.retired";
    public const string DataDeleted = "data.deleted";
    public const string WorkspaceRenamed = "workspace.renamed";

    /// <summary>An instance administrator set the workspace's own monthly request quota (Features/Quota).</summary>
    public const string QuotaChanged = "quota.changed";

    // Instance-level (WorkspaceId null).
    public const string SetupClaimed = "instance.setup";
    public const string WorkspaceCreated = "workspace.created";
    public const string WorkspaceDeleted = "workspace.deleted";
    public const string InstanceAdminGranted = "instance_admin.granted";
    public const string InstanceAdminRevoked = "instance_admin.revoked";
    public const string GlobalPriceVersion = "catalog.version_added";
}
