using Treecast.Contracts;

namespace Treecast.Agent.Vmm;

/// <summary>
/// The hypervisor on one host as the agent drives it. Implementations: <see cref="SimulatedVmm"/>
/// (deterministic images on disk) and <see cref="Qemu.QemuVmm"/> (QEMU through QMP).
/// </summary>
public interface IVmm : IAsyncDisposable
{
    string VmmId { get; }

    /// <summary>Every VM this VMM supports, with its current state.</summary>
    IReadOnlyList<VmInfo> Vms { get; }

    /// <summary>
    /// Pauses every running VM and returns their images: sealed (size and SHA-256) when already written, or unsealed
    /// (<see cref="VmImage.Unsealed"/>) while the VMM is still writing them, so the transfer can start at once.
    /// </summary>
    Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Opens a paused VM's image for reading from the start; the caller disposes the stream. An image still being
    /// written is followed as it grows: reads wait for more, end where the image ends, and fail if its stream broke.
    /// </summary>
    Stream OpenImage(string vmId);

    /// <summary>
    /// The paused VM's image with its final size and SHA-256, once it is completely written; faults with a reason
    /// naming the VM when its stream broke (a QEMU that died mid-stream).
    /// </summary>
    Task<VmImage> SealedImageAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a received, verified image (a file the transfer engine wrote) as a paused VM of this VMM.
    /// Replaces a VM of the same id. The file is moved, not copied.
    /// </summary>
    Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken);

    /// <summary>Resumes a paused VM; a copy (<paramref name="newIdentity"/>) first gets a MAC address of its own.</summary>
    Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken);

    /// <summary>
    /// After a restart: takes back, as a paused copy, the image of <paramref name="vmId"/> this VMM adopted before with that
    /// digest, when its file is still in the VMM's directory. True when the VMM holds that copy (already, or again); false
    /// when it is gone or no longer matches.
    /// </summary>
    Task<bool> RecoverAsync(string vmId, string sha256, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a copy this VMM adopted with that digest and never resumed (its image, and its process where it has one):
    /// an operation that was cancelled leaves nothing behind. False, and nothing changes, when the VMM holds no such copy
    /// (it never adopted it, adopted another image since, or the copy ran).
    /// </summary>
    Task<bool> DiscardAsync(string vmId, string sha256, CancellationToken cancellationToken);

    /// <summary>Starts a workload in every VM; it advances only while a VM runs.</summary>
    Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken);

    /// <summary>Whether a workload of that id ran on this VMM, and whether and when it completed here.</summary>
    WorkloadReport ReportWorkload(string workloadId);

    /// <summary>Raised once per VMM when every VM running the workload has reached its target.</summary>
    event Action<string>? WorkloadCompleted;
}

/// <summary>A VM as its VMM sees it now.</summary>
/// <param name="Sha256">Digest of the image when it was last paused or adopted; null while it never was.</param>
public sealed record VmInfo(string VmId, VmState State, long Bytes, string? Sha256, string MacAddress, long WorkloadProgress, long WorkloadTarget);
