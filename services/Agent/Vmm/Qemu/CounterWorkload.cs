using System.Globalization;
using System.Text.RegularExpressions;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// The workload as the counter guest of <c>infra/guest/counter.asm</c> runs it, the only part of the QEMU driver that knows
/// the guest: where its image is, where it keeps its counter, and how the host starts a workload in it and reads how far it
/// got, through QEMU's human monitor.
/// </summary>
public static partial class CounterWorkload
{
    /// <summary>Physical address of the guest's block: counter, target, generation, magic (little-endian u32 each).</summary>
    public const int BlockAddress = 0x500;

    /// <summary>The value at <see cref="BlockAddress"/> + 12 once the guest runs: the bytes "TCST".</summary>
    public const uint Magic = 0x54534354;

    /// <summary>The guest counts one tick per PIT interrupt, programmed at 100 Hz.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    /// <summary>I/O ports (ISA DMA page registers) the guest reads the target from, least significant byte first.</summary>
    public static readonly IReadOnlyList<int> TargetPorts = [0x8F, 0x8B, 0x89, 0x8A];

    /// <summary>The I/O port whose change starts a new workload; written after the target.</summary>
    public const int GenerationPort = 0x87;

    /// <summary>The HMP command line that reads the guest's block.</summary>
    public static string ReadBlockCommand { get; } = $"xp /4wx 0x{BlockAddress:x}";

    /// <summary>
    /// The counter guest image: <c>TREECAST_GUEST_IMAGE</c>, else <c>infra/guest/counter.img</c> in the first
    /// directory above the application or the current directory that has one; null when none exists.
    /// </summary>
    public static string? FindImage()
    {
        if (Environment.GetEnvironmentVariable("TREECAST_GUEST_IMAGE") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "infra", "guest", "counter.img");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>The ticks a workload of <paramref name="work"/> takes, as the target the guest counts to.</summary>
    public static uint TargetFor(TimeSpan work)
    {
        var ticks = (work.Ticks + Tick.Ticks - 1) / Tick.Ticks;
        return (uint)Math.Clamp(ticks, 0, uint.MaxValue);
    }

    /// <summary>The HMP command lines that start workload <paramref name="generation"/> counting to <paramref name="target"/>.</summary>
    public static IEnumerable<string> StartWorkloadCommands(uint target, byte generation)
    {
        for (var i = 0; i < TargetPorts.Count; i++)
        {
            yield return $"o /b 0x{TargetPorts[i]:x} 0x{(target >> (8 * i)) & 0xFF:x}";
        }

        yield return $"o /b 0x{GenerationPort:x} 0x{generation:x}";
    }

    /// <summary>1..255, the generation after <paramref name="generation"/>: generation 0 is the guest's "no workload yet".</summary>
    public static byte NextGeneration(byte generation) => (byte)((generation % 255) + 1);

    /// <summary>Starts workload <paramref name="workloadId"/> in the guest as generation <paramref name="generation"/>, counting to <paramref name="target"/>.</summary>
    internal static async Task StartAsync(QemuProcess process, string workloadId, uint target, byte generation, CancellationToken cancellationToken)
    {
        foreach (var command in StartWorkloadCommands(target, generation))
        {
            var output = await process.Qmp.HumanMonitorCommandAsync(command, cancellationToken);
            if (output.Trim().Length > 0)
            {
                throw new QemuVmException(
                    process.VmId, $"VM {process.VmId} on {process.VmmId}: starting workload {workloadId} failed: '{command}' answered {output.Trim()}");
            }
        }
    }

    /// <summary>Reads the guest's block from its memory now; null before the guest initialised it.</summary>
    internal static async Task<CounterReading?> ReadAsync(QemuProcess process, CancellationToken cancellationToken) =>
        ParseBlock(await process.Qmp.HumanMonitorCommandAsync(ReadBlockCommand, cancellationToken));

    /// <summary>Parses the output of <see cref="ReadBlockCommand"/>; null when the guest has not initialised its block.</summary>
    public static CounterReading? ParseBlock(string hmpOutput)
    {
        var words = HexWord().Matches(hmpOutput);
        if (words.Count < 4)
        {
            throw new FormatException($"Unexpected output from '{ReadBlockCommand}': {hmpOutput.Trim()}");
        }

        var values = words.Take(4).Select(m => uint.Parse(m.Groups[1].ValueSpan, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        return values[3] == Magic ? new CounterReading(values[0], values[1], (byte)values[2]) : null;
    }

    [GeneratedRegex(@"\b0x([0-9a-fA-F]{8})\b")]
    private static partial Regex HexWord();
}
