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

    /// <summary>Pauses every running VM and returns the images as they now stand (size and SHA-256).</summary>
    Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken);

    /// <summary>Opens a paused VM's image for reading from the start; the caller disposes the stream.</summary>
    Stream OpenImage(string vmId);

    /// <summary>
    /// Takes a received, verified image (a file the transfer engine wrote) as a paused VM of this VMM.
    /// Replaces a VM of the same id. The file is moved, not copied.
    /// </summary>
    Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken);

    /// <summary>Resumes a paused VM; a copy (<paramref name="newIdentity"/>) first gets a MAC address of its own.</summary>
    Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken);

    /// <summary>Starts a workload in every VM; it advances only while a VM runs.</summary>
    Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken);

    /// <summary>Raised once per VMM when every VM running the workload has reached its target.</summary>
    event Action<string>? WorkloadCompleted;
}

/// <summary>A VM as its VMM sees it now.</summary>
/// <param name="Sha256">Digest of the image when it was last paused or adopted; null while it never was.</param>
public sealed record VmInfo(string VmId, VmState State, long Bytes, string? Sha256, string MacAddress, long WorkloadProgress, long WorkloadTarget);
