using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Opsmeter.Web.Infrastructure.RateLimits;

/// <summary>
/// Bounds what guessing API keys costs the database. Known keys and keys already found unknown are answered from
/// <c>ApiKeyStore</c>'s cache; only a key not seen in the last 30 s is looked up. Each lookup that finds nothing
/// spends one of the client address's <see cref="RateLimitOptions.UnknownKeysPerAddress"/> per window; once they are
/// spent, the address's uncached keys are refused with 429 without a lookup until the window ends. So one address costs
/// at most that many queries a window however many random keys it sends, and its already-cached valid keys still work.
/// </summary>
internal sealed class UnknownKeyGuard : IDisposable
{
    private readonly PartitionedRateLimiter<string>? misses;

    public UnknownKeyGuard(IOptions<RateLimitOptions> options)
    {
        var limits = options.Value;
        if (limits.UnknownKeysPerAddress > 0)
        {
            misses = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.UnknownKeysPerAddress,
                    Window = TimeSpan.FromSeconds(limits.AddressWindowSeconds),
                    QueueLimit = 0,
                }));
        }
    }

    /// <summary>Whether a key from <paramref name="address"/> may be looked up; if not, in how many seconds it may.</summary>
    public bool MayLookUp(string address, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (misses is null)
        {
            return true;
        }

        using var lease = misses.AttemptAcquire(address, permitCount: 0); // 0: asks whether any are left, spends none
        if (lease.IsAcquired)
        {
            return true;
        }

        retryAfterSeconds = TooManyRequests.RetryAfterSeconds(lease);
        return false;
    }

    /// <summary>A lookup for <paramref name="address"/> found no key.</summary>
    public void Missed(string address) => misses?.AttemptAcquire(address).Dispose();

    public void Dispose() => misses?.Dispose();
}
