using System.Runtime.InteropServices;

namespace Treecast.Bench.Running;

/// <summary>The machine a result came from, written into every result file so numbers are never read without it.</summary>
public sealed record Machine(int Cores, long MemoryBytes, string Os, string Architecture, string DotNet, string Processor)
{
    public static Machine Current { get; } = new(
        Environment.ProcessorCount,
        MemoryOf(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.OSArchitecture.ToString(),
        RuntimeInformation.FrameworkDescription,
        ProcessorName());

    public override string ToString() =>
        $"{Cores} cores ({Processor}), {MemoryBytes / (1024 * 1024 * 1024.0):F1} GiB, {Os} {Architecture}, {DotNet}";

    private static long MemoryOf()
    {
        // /proc/meminfo is the machine's memory; the GC's figure is capped by a container's limit, which is also worth knowing but is not the machine.
        const string meminfo = "/proc/meminfo";
        if (File.Exists(meminfo))
        {
            var total = File.ReadLines(meminfo).FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (total is not null && long.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kib))
            {
                return kib * 1024;
            }
        }

        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    private static string ProcessorName()
    {
        const string cpuinfo = "/proc/cpuinfo";
        var model = File.Exists(cpuinfo)
            ? File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
            : null;
        return model?.Split(':', 2)[1].Trim() ?? "unknown processor";
    }
}
