using System.Globalization;

namespace Treecast.Bench.Broadcast;

/// <summary>A process's CPU time (user + kernel, from <c>/proc/{pid}/stat</c>) and peak resident memory (<c>VmHWM</c>).</summary>
public static class ProcessUsage
{
    // Linux reports stat times in clock ticks of USER_HZ, 100 on every architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces; fields after it start past its closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var user = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var kernel = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (user + kernel) / TicksPerSecond;
    }

    public static double PeakResidentMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>The machine's load average over the last minute, written with the results: the machine may be shared.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}
