namespace Opsmeter.Web.Features.Members;

internal static class MembersSetup
{
    /// <summary>People in workspaces: which workspace a signed-in person acts on, per request.</summary>
    public static IHostApplicationBuilder AddMembers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddScoped<CurrentWorkspace>();
        return builder;
    }
}
