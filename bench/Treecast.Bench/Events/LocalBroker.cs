using Treecast.Bench.Broadcast;

namespace Treecast.Bench.Events;

/// <summary>
/// The RabbitMQ server process on this machine (Erlang's <c>beam.smp</c>), when the benchmark's broker is local: its
/// CPU per event shares the cores with the policy service, so it belongs in the result.
/// </summary>
public sealed class LocalBroker(int pid)
{
    public double CpuSeconds() => ProcessUsage.CpuSeconds(pid);

    /// <summary>
    /// The one <c>beam.smp</c> process that boots RabbitMQ (<c>-s rabbit</c>; <c>rabbitmqctl</c> runs a short-lived one of its
    /// own), or null for a remote broker, no <c>/proc</c>, or several brokers (which one is ours is unknown).
    /// </summary>
    public static LocalBroker? Find(Uri broker)
    {
        if (!broker.IsLoopback || !Directory.Exists("/proc"))
        {
            return null;
        }

        var beams = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && CommandName(pid) == "beam.smp" && BootsRabbit(pid))
            {
                beams.Add(pid);
            }
        }

        return beams.Count == 1 ? new LocalBroker(beams[0]) : null;
    }

    private static string? CommandName(int pid) => Read($"/proc/{pid}/comm")?.Trim();

    private static bool BootsRabbit(int pid) =>
        Read($"/proc/{pid}/cmdline")?.Split('\0') is { } arguments
        && arguments.Zip(arguments.Skip(1)).Any(pair => pair is ("-s", "rabbit"));

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
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
