using Treecast.Agent.Images;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// Where a <see cref="QemuVmm"/> keeps its files: a state file per VM in its work directory, and the unix sockets of its
/// QEMUs (monitors and migrations) in a directory short enough for a socket's path.
/// </summary>
internal sealed class QemuFiles
{
    // sockaddr_un holds 108 bytes; a longer work directory gets its sockets in a short directory of its own.
    private const int MaxSocketDirectoryLength = 80;

    private int _socketSequence;

    public QemuFiles(string workDirectory)
    {
        WorkDirectory = Path.GetFullPath(workDirectory);
        Directory.CreateDirectory(WorkDirectory);
        var socketDirectory = Path.Combine(WorkDirectory, "sockets");
        SocketDirectory = socketDirectory.Length > MaxSocketDirectoryLength
            ? Path.Combine(Path.GetTempPath(), $"tcq-{Guid.NewGuid():N}"[..12])
            : socketDirectory;
        Directory.CreateDirectory(SocketDirectory);
    }

    public string WorkDirectory { get; }

    public string SocketDirectory { get; }

    public string StatePathFor(string vmId) => ImageFiles.PathFor(WorkDirectory, vmId, ".state", "a state file");

    // Numbered, not named after the VM: a unix socket path must stay under 108 bytes whatever the VM id.
    public string NextSocketPath(string purpose) =>
        Path.Combine(SocketDirectory, $"{Interlocked.Increment(ref _socketSequence)}.{purpose}");

    /// <summary>Deletes what a crash of an earlier run left: saves that never ended, and sockets of QEMUs that are gone. Returns how many.</summary>
    public int ReclaimLeftovers()
    {
        var leftovers = Directory.EnumerateFiles(WorkDirectory, "*.partial").Concat(Directory.EnumerateFiles(SocketDirectory)).ToList();
        foreach (var leftover in leftovers)
        {
            File.Delete(leftover);
        }

        return leftovers.Count;
    }

    /// <summary>Deletes the socket directory; the state files stay (the work directory belongs to the VMM's caller).</summary>
    public void DeleteSockets() => Directory.Delete(SocketDirectory, recursive: true);
}
