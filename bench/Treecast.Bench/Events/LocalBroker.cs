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
    /// own; of several, the one listening on the benchmark's port), or null for a remote broker or no <c>/proc</c>.
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

        if (beams.Count > 1)
        {
            // Another broker on the machine (a test's own): ours is the one listening on the benchmark's port.
            var listening = ListeningSocket(broker.Port == -1 ? 5672 : broker.Port);
            beams = beams.Where(pid => listening is not null && OwnsSocket(pid, listening)).ToList();
        }

        return beams.Count == 1 ? new LocalBroker(beams[0]) : null;
    }

    /// <summary>The inode of the socket listening on <paramref name="port"/> (<c>/proc/net/tcp</c> and <c>tcp6</c>, state 0A).</summary>
    private static string? ListeningSocket(int port)
    {
        var hexPort = ":" + port.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in (Read(table) ?? string.Empty).Split('\n').Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[1].EndsWith(hexPort, StringComparison.Ordinal) && fields[3] == "0A")
                {
                    return fields[9];
                }
            }
        }

        return null;
    }

    private static bool OwnsSocket(int pid, string inode)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
                .Any(fd => new FileInfo(fd).LinkTarget == $"socket:[{inode}]");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
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
