namespace Opsmeter.Client;

/// <summary>Sends usage to Opsmeter in the background. Register with <c>services.AddOpsmeter(…)</c>.</summary>
public interface IOpsmeterClient
{
    /// <summary>Queues the event and returns at once; never throws and never waits for the network.</summary>
    void Track(OpsmeterEvent usage);

    /// <summary>Sends everything queued now and waits until each event was accepted or given up on.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
