namespace Opsmeter.Web.Features.Otlp;

internal static class OtlpSetup
{
    /// <summary>
    /// OpenTelemetry in: nothing to register beyond what ingest already has (validator, catalog, writer); OTLP's messages
    /// are compiled from Protos/*.proto by Grpc.Tools. Listed in Program.cs so that the feature is visible there.
    /// </summary>
    public static IHostApplicationBuilder AddOtlp(this IHostApplicationBuilder builder) => builder;
}
