using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// The command line of a QEMU that runs one VM: paused (<c>-S</c>), no default devices, its monitor on a unix socket we
/// listen on, the definition's machine, memory and boot image, and <c>-incoming defer</c> for one that loads a state.
/// </summary>
internal static class QemuCommandLine
{
    public static IEnumerable<string> Arguments(string vmId, string accelerator, VmDefinition definition, bool incoming, string qmpSocketPath)
    {
        string[] common =
        [
            "-name", QemuOption(vmId),
            "-nodefaults",
            "-no-user-config",
            "-display", "none",
            "-accel", accelerator,
            "-machine", definition.MachineType,
            "-m", $"{definition.MemoryMiB}M",
            "-qmp", $"unix:{QemuOption(qmpSocketPath)}",
            "-S",
        ];
        foreach (var argument in common)
        {
            yield return argument;
        }

        if (definition.BootImage is { } bootImage)
        {
            // Read-only: every VM of every VMM on a host boots the same file, and QEMU's image locking forbids shared writers.
            yield return "-drive";
            yield return $"file={QemuOption(bootImage)},format=raw,if=floppy,readonly=on";
        }

        if (incoming)
        {
            yield return "-incoming";
            yield return "defer";
        }
    }

    // QEMU's option syntax separates with commas; a literal comma is written twice.
    private static string QemuOption(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
