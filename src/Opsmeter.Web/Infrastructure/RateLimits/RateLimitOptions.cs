using System.ComponentModel.DataAnnotations;

namespace Opsmeter.Web.Infrastructure.RateLimits;

/// <summary>
/// <c>Opsmeter:RateLimits</c>: how fast one API key may call <c>/v1</c>, and how many sign-in form posts and unknown API
/// keys one client address may send. Every limit is off at 0.
/// </summary>
internal sealed class RateLimitOptions
{
    public const string Section = "Opsmeter:RateLimits";

    /// <summary>
    /// Requests per second one API key may sustain on <c>/v1</c> (a batch is one request). 1,000/s is ~86 million
    /// LLM calls a day from one app, which no single app reaches, yet a fraction of the server's measured single-ingest
    /// ceiling (6,000–18,000 events/s on two cores, docs/benchmarks.md): one runaway key cannot take the whole server.
    /// Fractions are allowed (0.5 = one request every two seconds).
    /// </summary>
    [Range(0, 1_000_000)]
    public double PerKeyPerSecond { get; set; } = 1_000;

    /// <summary>Requests one key may send at once above its rate (the token bucket's size): a client's flush after a pause.</summary>
    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 2_000;

    /// <summary>
    /// Form posts one client address may send to sign-in, first-run setup, invitation and password change pages
    /// per <see cref="AddressWindowSeconds"/>: a person mistypes a few times; a password guesser needs millions.
    /// </summary>
    [Range(0, 1_000_000)]
    public int SignInPostsPerAddress { get; set; } = 10;

    /// <summary>API keys that match nothing one client address may present per <see cref="AddressWindowSeconds"/> before
    /// its uncached keys are refused without asking the database.</summary>
    [Range(0, 1_000_000)]
    public int UnknownKeysPerAddress { get; set; } = 20;

    /// <summary>The window of the per-address limits.</summary>
    [Range(1, 86_400)]
    public int AddressWindowSeconds { get; set; } = 60;
}
