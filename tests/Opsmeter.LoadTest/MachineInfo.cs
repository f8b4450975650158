using System.Diagnostics;

namespace Opsmeter.LoadTest;

internal static class MachineInfo
{
    public static string Describe()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} cores ({cpu ?? "unknown CPU"}), {memory:0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    /// <summary>
    /// How late this machine wakes a thread that sleeps 1 ms, measured with nothing of the benchmark running: the latency
    /// floor under every figure of the run. On a virtual machine the host can hold both cores for tens of milliseconds, which
    /// no server can do better than; a latency benchmark reports it beside its percentiles.
    /// </summary>
    public static string IdleWakeups(TimeSpan duration)
    {
        var late = new List<double>();
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            var before = Stopwatch.GetTimestamp();
            Thread.Sleep(1);
            late.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds - 1);
        }

        return FormattableString.Invariant(
            $"idle, a 1 ms sleep woke ≥ 5 ms late {late.Count(l => l >= 5)} times in {duration.TotalSeconds:0} s, at worst {late.Max():0.0} ms late");
    }
}
