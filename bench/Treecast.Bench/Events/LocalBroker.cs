using Treecast.Bench.Broadcast;

namespace Treecast.Bench.Events;

/// <summary>
/// The RabbitMQ server process on this machine (Erlang's <c>beam.smp</c>), when the benchmark's broker is local: its
/// CPU per event shares the cores with the policy service, so it belongs in the result.
/// </summary>
public sealed class LocalBroker(int pid)
{
    public double CpuSeconds() => ProcessUsage.CpuSeconds(pid);

    /// <summary>The one <c>beam.smp</c> process, or null for a remote broker, no <c>/proc</c>, or several Erlang nodes (which one is ours is unknown).</summary>
    public static LocalBroker? Find(Uri broker)
    {
        if (!broker.IsLoopback || !Directory.Exists("/proc"))
        {
            return null;
        }

        var beams = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && CommandName(pid) == "beam.smp")
            {
                beams.Add(pid);
            }
        }

        return beams.Count == 1 ? new LocalBroker(beams[0]) : null;
    }

    private static string? CommandName(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            // The process ended while the list was read.
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
