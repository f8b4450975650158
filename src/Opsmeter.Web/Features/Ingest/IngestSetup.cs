using Microsoft.AspNetCore.Server.Kestrel.Core;
using Opsmeter.Web.Features.Events;

namespace Opsmeter.Web.Features.Ingest;

internal static class IngestSetup
{
    /// <summary>Ingest: options, the source-generated JSON, the body limit, the known day partitions, the group-commit writer and the per-workspace admission before it.</summary>
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateDataAnnotations();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJsonContext.Default));
        // Kestrel's own ceiling is the largest body any route takes (a batch); each route sets its own limit below it.
        builder.Services.Configure<KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = IngestOptions.MaxBatchBodyBytes);
        builder.Services.AddSingleton<EventPartitions>();
        builder.Services.AddSingleton<IngestWriter>();
        builder.Services.AddSingleton<IngestAdmission>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IngestWriter>());
        return builder;
    }
}
