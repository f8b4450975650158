using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Opsmeter.Web.Infrastructure.Auth;

namespace Opsmeter.Web.Infrastructure.RateLimits;

/// <summary>
/// Request rate limits (README "Limits"): a token bucket per API key on <c>/v1</c>, and a fixed window per client
/// address on the forms that take a password or a secret token (<see cref="PasswordFormsPolicy"/>). The unknown-key
/// limit lives in <see cref="UnknownKeyGuard"/>, because it must act before a key is looked up.
/// </summary>
internal static class RateLimitsSetup
{
    /// <summary>Applied with <c>[EnableRateLimiting]</c> to the page models of sign-in, setup, invitations and the account page.</summary>
    public const string PasswordFormsPolicy = "password-forms";

    public static IHostApplicationBuilder AddOpsmeterRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptionsWithValidateOnStart<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations();
        builder.Services.AddSingleton<UnknownKeyGuard>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((o, options) =>
        {
            var limits = options.Value;
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                limits.PerKeyPerSecond > 0 && http.Request.Path.StartsWithSegments("/v1")
                    && http.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) is { } keyId
                    ? RateLimitPartition.GetTokenBucketLimiter(keyId, _ => PerKey(limits))
                    : RateLimitPartition.GetNoLimiter(""));
            o.AddPolicy(PasswordFormsPolicy, http =>
                limits.SignInPostsPerAddress > 0 && HttpMethods.IsPost(http.Request.Method)
                    ? RateLimitPartition.GetFixedWindowLimiter(ClientAddress.Of(http), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.SignInPostsPerAddress,
                        Window = TimeSpan.FromSeconds(limits.AddressWindowSeconds),
                        QueueLimit = 0,
                    })
                    : RateLimitPartition.GetNoLimiter(""));
            o.OnRejected = async (context, _) =>
            {
                var http = context.HttpContext;
                var seconds = TooManyRequests.RetryAfterSeconds(context.Lease);
                if (http.Request.Path.StartsWithSegments("/v1"))
                {
                    await TooManyRequests.WriteProblemAsync(http, seconds, string.Create(CultureInfo.InvariantCulture,
                        $"This API key sent more than {limits.PerKeyPerSecond:0.###} requests a second (bursts of {limits.Burst})."));
                    return;
                }

                // A page: the body stays empty, so the status page (/status/429) explains it to the person.
                TooManyRequests.SetRetryAfter(http, seconds);
            };
        });
        return builder;
    }

    /// <summary>How long a request over its key's rate may wait for a token before it is refused.</summary>
    private static readonly TimeSpan PerKeyWait = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// <see cref="RateLimitOptions.PerKeyPerSecond"/> as whole tokens per period of about <see cref="PerKeyWait"/>: 1,000/s
    /// is 100 tokens every 100 ms, 2.5/s is 1 every 0.4 s, 0.5/s is 1 every 2 s. Once the burst is spent, as many requests
    /// as the key earns in <see cref="PerKeyWait"/> wait in order for the next tokens (100 at 1,000/s; none below 10/s)
    /// and the rest are refused at once. So a client that sends faster than its rate is held to it, not answered 429 on
    /// most requests: a client that retries at once (ignoring <c>Retry-After</c>) would otherwise turn each refusal into
    /// another request and cost the node more than its served rate (docs/benchmarks.md "Fairness").
    /// </summary>
    private static TokenBucketRateLimiterOptions PerKey(RateLimitOptions limits)
    {
        var waiting = (int)Math.Floor(limits.PerKeyPerSecond * PerKeyWait.TotalSeconds);
        var tokens = Math.Max(1, waiting);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / limits.PerKeyPerSecond),
            QueueLimit = waiting,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        };
    }
}
