using Treecast.Agent.Vmm.Qemu;

namespace Treecast.Standalone;

/// <summary>What <c>--vmm qemu</c> needs before any service starts, checked up front so a missing piece is one clear line.</summary>
public static class QemuPrerequisites
{
    /// <summary>What is missing, with the fix; null when QEMU VMs can run here.</summary>
    public static string? Missing()
    {
        var binary = new QemuOptions().WithEnvironment().Binary;
        var onPath = Path.IsPathRooted(binary)
            ? File.Exists(binary)
            : (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Any(directory => File.Exists(Path.Combine(directory, binary)));
        if (!onPath)
        {
            return $"{binary} is not installed (apt-get install qemu-system-x86, or set TREECAST_QEMU_BINARY)";
        }

        if (CounterWorkload.FindImage() is null)
        {
            return "the counter guest infra/guest/counter.img does not exist; build it with infra/guest/build.sh (needs nasm), or set TREECAST_GUEST_IMAGE";
        }

        return null;
    }
}
