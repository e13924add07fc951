using Treecast.Agent.Images;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm;

/// <summary>
/// A VMM without a hypervisor: each VM is an image file in the work directory whose content depends only
/// on the VM id, and whose workload advances with <see cref="TimeProvider"/> time while the VM runs.
/// </summary>
public sealed class SimulatedVmm : IVmm
{
    /// <summary>The unit of workload progress: a VM running for one tick does one unit of work.</summary>
    public static readonly TimeSpan WorkTick = TimeSpan.FromMilliseconds(10);

    private readonly string _workDirectory;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<SimulatedVmm> _logger;
    private readonly ITimer _completionTimer;
    private readonly VmmOperations _operations = new();
    private readonly VmTable<SimulatedVm> _vms;
    private readonly Lock _timerGate = new();

    /// <summary>
    /// Creates the VMM with <paramref name="vmCount"/> running VMs named <c>{vmmId}-vm-{n}</c> (n from 1), writing
    /// a fresh image of <paramref name="imageBytes"/> bytes for each into <paramref name="workDirectory"/>.
    /// A receiving VMM starts with no VMs and gets its VMs through <see cref="AdoptAsync"/>.
    /// </summary>
    public SimulatedVmm(
        string vmmId,
        string workDirectory,
        int vmCount,
        long imageBytes,
        TimeProvider timeProvider,
        ILogger<SimulatedVmm> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vmmId);
        ArgumentException.ThrowIfNullOrWhiteSpace(workDirectory);
        ArgumentOutOfRangeException.ThrowIfNegative(vmCount);
        if (vmCount > 0 && imageBytes < SimulatedImage.HeaderBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(imageBytes), imageBytes, $"A simulated VM image must be at least {SimulatedImage.HeaderBytes} bytes (its header).");
        }

        VmmId = vmmId;
        _workDirectory = workDirectory;
        _timeProvider = timeProvider;
        _logger = logger;
        _vms = new VmTable<SimulatedVm>(vmmId, typeof(SimulatedVmm), timeProvider, logger);
        Directory.CreateDirectory(workDirectory);
        _completionTimer = timeProvider.CreateTimer(_ => EvaluateWorkloads(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        var now = timeProvider.GetTimestamp();
        for (var n = 1; n <= vmCount; n++)
        {
            var vmId = $"{vmmId}-vm-{n}";
            var path = ImagePathFor(vmId);
            SimulatedImage.Create(path, vmId, imageBytes);
            _vms.Put(SimulatedVm.Running(vmId, path, imageBytes, timeProvider, now), carriedWorkloadId: null);
        }

        _logger.LogInformation(
            "Created {VmCount} simulated VMs of {ImageBytes} bytes on {VmmId} in {WorkDirectory}",
            vmCount,
            imageBytes,
            vmmId,
            workDirectory);
    }

    public event Action<string>? WorkloadCompleted
    {
        add => _vms.WorkloadCompleted += value;
        remove => _vms.WorkloadCompleted -= value;
    }

    public string VmmId { get; }

    public IReadOnlyList<VmInfo> Vms => _vms.Infos();

    public async Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken)
    {
        using var operation = await _operations.EnterAsync(cancellationToken);
        var now = _timeProvider.GetTimestamp();
        var paused = _vms.Select(vm => (Vm: vm, Paused: vm.Pause(now)));
        var images = new List<VmImage>(paused.Count);
        foreach (var (vm, (_, header)) in paused)
        {
            images.Add(new VmImage(vm.VmId, vm.Bytes, await vm.SaveImageAsync(header, cancellationToken)));
        }

        _logger.LogInformation(
            "Paused {PausedCount} VMs on {VmmId}; {VmCount} paused images ready ({TotalBytes} bytes)",
            paused.Count(p => p.Paused.PausedNow),
            VmmId,
            images.Count,
            images.Sum(i => i.Bytes));
        EvaluateWorkloads();
        return images;
    }

    public Stream OpenImage(string vmId)
    {
        var vm = _vms.Find(vmId);
        var state = vm.State;
        if (state != VmState.Paused)
        {
            throw new InvalidOperationException(
                $"VM {vmId} on {VmmId} is {state}; its image can only be read while it is paused (pause it first).");
        }

        return ImageFiles.OpenPaused(vm.ImagePath);
    }

    /// <summary>A simulated image is written whole before <see cref="PauseAllAsync"/> returns: it is always sealed.</summary>
    public Task<VmImage> SealedImageAsync(string vmId, CancellationToken cancellationToken)
    {
        var vm = _vms.Find(vmId);
        return vm.Sha256 is { } sha256
            ? Task.FromResult(new VmImage(vm.VmId, vm.Bytes, sha256))
            : Task.FromException<VmImage>(new InvalidOperationException($"VM {vmId} on {VmmId} has no image yet (pause it first)."));
    }

    public async Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        var target = ImagePathFor(vmId);
        using var operation = await _operations.EnterAsync(cancellationToken);
        var header = await SimulatedImage.ReadHeaderAsync(imagePath, cancellationToken);
        if (header.VmId != vmId)
        {
            throw new InvalidDataException(
                $"{imagePath} holds the image of VM {header.VmId}, not of {vmId}; the transfer wrote the wrong file for this VM.");
        }

        if (!string.Equals(Path.GetFullPath(imagePath), Path.GetFullPath(target), StringComparison.Ordinal))
        {
            File.Move(imagePath, target, overwrite: true);
        }

        var bytes = new FileInfo(target).Length;
        var replaced = _vms.Put(SimulatedVm.Adopted(target, bytes, sha256, header, _timeProvider), header.WorkloadId);
        _logger.LogInformation(
            "Adopted VM {VmId} on {VmmId} ({Bytes} bytes, {Sha256}, workload {WorkloadId} at {WorkloadProgress}/{WorkloadTarget}){Replacement}",
            vmId,
            VmmId,
            bytes,
            sha256,
            header.WorkloadId,
            header.WorkloadProgress,
            header.WorkloadTarget,
            replaced ? ", replacing the VM of that id" : string.Empty);
    }

    public async Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken)
    {
        using var operation = await _operations.EnterAsync(cancellationToken);
        _vms.ThrowIfDisposed();
        var vm = _vms.Find(vmId);
        var (mac, sha256) = vm.Resume(newIdentity, _timeProvider.GetTimestamp());

        // A VM that was never paused has no recorded digest; its file is still its last state.
        sha256 ??= await SimulatedVm.HashAsync(vm.ImagePath, cancellationToken);

        _logger.LogInformation(
            "Resumed VM {VmId} on {VmmId} with MAC {MacAddress} ({Identity})",
            vmId,
            VmmId,
            mac,
            newIdentity ? "new identity" : "original identity");
        EvaluateWorkloads();
        return new VmCopy(vmId, sha256, VmState.Running, mac);
    }

    public async Task<bool> RecoverAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        var path = ImagePathFor(vmId);
        if (_vms.Get(vmId)?.Holds(sha256) == true)
        {
            return true;
        }

        if (!File.Exists(path) || !string.Equals(await SimulatedVm.HashAsync(path, cancellationToken), sha256, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        await AdoptAsync(vmId, path, sha256, cancellationToken);
        return true;
    }

    public async Task<bool> DiscardAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        using var operation = await _operations.EnterAsync(cancellationToken);
        _vms.ThrowIfDisposed();
        if (_vms.Remove(vmId, vm => vm.IsUnresumedCopyOf(sha256)) is not { } discarded)
        {
            return false;
        }

        File.Delete(discarded.ImagePath);
        _logger.LogInformation("Discarded copy {VmId} ({Sha256}) on {VmmId}", vmId, sha256, VmmId);
        return true;
    }

    public WorkloadReport ReportWorkload(string workloadId)
    {
        EvaluateWorkloads();
        return _vms.Report(workloadId);
    }

    public Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken)
    {
        WorkloadTracker.ThrowIfInvalid(workloadId, work);
        var target = (work.Ticks + WorkTick.Ticks - 1) / WorkTick.Ticks;
        var now = _timeProvider.GetTimestamp();
        var vmCount = _vms.StartWorkload(workloadId, vm =>
        {
            vm.StartWorkload(workloadId, target, now);
            return vm;
        }).Count;
        if (vmCount == 0)
        {
            _logger.LogWarning("Workload {WorkloadId} not started on {VmmId}: the VMM has no VMs to run it", workloadId, VmmId);
            return Task.CompletedTask;
        }

        _logger.LogInformation(
            "Started workload {WorkloadId} on {VmmId} in {VmCount} VMs: {Work} of work ({WorkloadTarget} ticks) each",
            workloadId,
            VmmId,
            vmCount,
            work,
            target);
        EvaluateWorkloads();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        // The image files stay: the work directory belongs to the caller.
        if (_vms.TryDispose())
        {
            await _completionTimer.DisposeAsync();
        }
    }

    /// <summary>
    /// Raises <see cref="WorkloadCompleted"/> for every workload whose carriers have all reached their
    /// target, then sets the timer for the next VM that will reach its target.
    /// </summary>
    private void EvaluateWorkloads()
    {
        var nextDue = Timeout.InfiniteTimeSpan;
        var evaluation = _vms.CompleteWorkloads((carriers, now) =>
        {
            foreach (var remaining in carriers.Select(vm => vm.RemainingAt(now)).OfType<TimeSpan>())
            {
                if (remaining > TimeSpan.Zero && (nextDue == Timeout.InfiniteTimeSpan || remaining < nextDue))
                {
                    nextDue = remaining;
                }
            }
        });

        // Set outside the table lock: a fake clock may run the callback inline, and only the latest
        // evaluation's due time may win.
        lock (_timerGate)
        {
            if (_vms.IsLatest(evaluation))
            {
                try
                {
                    _completionTimer.Change(nextDue, Timeout.InfiniteTimeSpan);
                }
                catch (ObjectDisposedException)
                {
                    // Disposed meanwhile: nothing is left to complete.
                }
            }
        }

        _vms.Raise(evaluation);
    }

    private string ImagePathFor(string vmId) => ImageFiles.PathFor(_workDirectory, vmId, ".img", "an image file");
}
