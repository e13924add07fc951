using System.Diagnostics;
using Treecast.Agent.Tests.Support;
using Treecast.Agent.Vmm;
using Treecast.Agent.Vmm.Qemu;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Qemu;

/// <summary>
/// A <see cref="QemuVmm"/> whose receiving QEMU is killed mid-stream: an adoption feeds the received image through a
/// pipe, stops halfway, kills the QEMU loading it, and lets the VMM report what that does. Everything else is the real VMM.
/// </summary>
internal sealed class KilledMidStreamVmm(QemuVmm vmm, string workDirectory) : IVmm
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    public event Action<string>? WorkloadCompleted
    {
        add => vmm.WorkloadCompleted += value;
        remove => vmm.WorkloadCompleted -= value;
    }

    public string VmmId => vmm.VmmId;

    public IReadOnlyList<VmInfo> Vms => vmm.Vms;

    /// <summary>The QEMU processes this VMM killed.</summary>
    public List<int> Killed { get; } = [];

    public Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken) => vmm.PauseAllAsync(cancellationToken);

    public Stream OpenImage(string vmId) => vmm.OpenImage(vmId);

    public Task<VmImage> SealedImageAsync(string vmId, CancellationToken cancellationToken) => vmm.SealedImageAsync(vmId, cancellationToken);

    public async Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken)
    {
        var pipe = Path.Combine(workDirectory, $"{vmId}.incoming");
        using (var mkfifo = Process.Start("mkfifo", [pipe]))
        {
            await mkfifo.WaitForExitAsync(cancellationToken);
            if (mkfifo.ExitCode != 0)
            {
                throw new InvalidOperationException($"mkfifo {pipe} failed with code {mkfifo.ExitCode}");
            }
        }

        var adoption = Task.Run(() => vmm.AdoptAsync(vmId, pipe, sha256, cancellationToken), cancellationToken);
        var image = await File.ReadAllBytesAsync(imagePath, cancellationToken);
        var writer = await Task.Run(() => new FileStream(pipe, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 0), cancellationToken).WaitAsync(Generous, cancellationToken);
        try
        {
            // Half the image, then nothing: the QEMU loading it waits for the rest, mid-stream, until it is killed.
            await writer.WriteAsync(image.AsMemory(0, image.Length / 2), cancellationToken).AsTask().WaitAsync(Generous, cancellationToken);
            await Poll.UntilAsync(() => IncomingQemus().Count == 1, $"the receiving QEMU of {vmId} on {VmmId} runs", Generous);
            foreach (var pid in IncomingQemus())
            {
                Process.GetProcessById(pid).Kill();
                Killed.Add(pid);
            }
        }
        finally
        {
            try
            {
                await writer.DisposeAsync();
            }
            catch (IOException)
            {
                // The reader died with its QEMU: a broken pipe is the point.
            }
        }

        await adoption;
    }

    public Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken) => vmm.ResumeAsync(vmId, newIdentity, cancellationToken);

    public Task<bool> RecoverAsync(string vmId, string sha256, CancellationToken cancellationToken) => vmm.RecoverAsync(vmId, sha256, cancellationToken);

    public Task<bool> DiscardAsync(string vmId, string sha256, CancellationToken cancellationToken) => vmm.DiscardAsync(vmId, sha256, cancellationToken);

    public Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken) => vmm.StartWorkloadAsync(workloadId, work, cancellationToken);

    public WorkloadReport ReportWorkload(string workloadId) => vmm.ReportWorkload(workloadId);

    public ValueTask DisposeAsync() => vmm.DisposeAsync();

    /// <summary>QEMUs of this VMM in incoming mode: their monitor sockets live in its work directory.</summary>
    public IReadOnlyList<int> IncomingQemus() =>
        QemuFixture.QemuProcesses(workDirectory).Where(pid => CommandLine(pid).Contains("-incoming", StringComparison.Ordinal)).ToList();

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
