namespace Opsmeter.Web.Features.Invitations;

internal static class InvitationsSetup
{
    /// <summary>Invitations to a workspace: the lifetime of their links.</summary>
    public static IHostApplicationBuilder AddInvitations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<InvitationOptions>().BindConfiguration(InvitationOptions.Section).ValidateDataAnnotations();
        return builder;
    }
}
