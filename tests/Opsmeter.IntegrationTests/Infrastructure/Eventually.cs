using System.Diagnostics;

namespace Opsmeter.IntegrationTests.Infrastructure;

/// <summary>Waiting in a test on a condition, never on a fixed sleep: polled until it holds, failing at a deadline.</summary>
internal static class Eventually
{
    /// <summary>
    /// Waits until <paramref name="condition"/> holds, at most <paramref name="deadline"/>; returns how long that took (for
    /// the test output: a timing is reported, never asserted beyond the deadline, which is a bound for a busy machine).
    /// </summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < deadline, $"{what}: not within {deadline.TotalSeconds:0.#} s");
            await Task.Delay(25);
        }

        return waited.Elapsed;
    }
}
