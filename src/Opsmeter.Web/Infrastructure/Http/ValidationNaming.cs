using System.Runtime.CompilerServices;
using System.Text.Json;
using FluentValidation;

namespace Opsmeter.Web.Infrastructure.Http;

internal static class ValidationNaming
{
    /// <summary>
    /// Validation errors are keyed by the camelCase wire name (docs/api.md "Conventions"). FluentValidation's
    /// naming is process-wide, so it is set once when this assembly loads, for the app and its tests alike.
    /// </summary>
    [ModuleInitializer]
    internal static void UseCamelCase()
    {
        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) =>
            member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
            member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
    }
}
