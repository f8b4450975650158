namespace Opsmeter.Web.Infrastructure.Jobs;

internal static class PeriodicTimerExtensions
{
    /// <summary>Waits for the next tick; false when the host is stopping (instead of an exception to catch).</summary>
    public static async Task<bool> TickAsync(this PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
