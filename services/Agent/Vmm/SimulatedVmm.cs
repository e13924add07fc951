using System.Security.Cryptography;
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

    // Serializes the operations that touch image files, so a pause never hashes a file an adoption is replacing.
    private readonly SemaphoreSlim _operations = new(1, 1);

    // Guards the VM table; never held across I/O, an await, or a call out to event handlers.
    private readonly Lock _gate = new();
    private readonly Lock _timerGate = new();
    private readonly Dictionary<string, SimulatedVm> _vms = new(StringComparer.Ordinal);
    private readonly WorkloadTracker _workloads = new();
    private long _timerGeneration;
    private bool _disposed;

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
        Directory.CreateDirectory(workDirectory);
        _completionTimer = timeProvider.CreateTimer(_ => EvaluateWorkloads(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        var now = timeProvider.GetTimestamp();
        for (var n = 1; n <= vmCount; n++)
        {
            var vmId = $"{vmmId}-vm-{n}";
            var path = ImagePathFor(vmId);
            SimulatedImage.Create(path, vmId, imageBytes);
            var mac = MacAddresses.Original(vmId);
            _vms[vmId] = new SimulatedVm(vmId, path, imageBytes, mac)
            {
                State = VmState.Running,
                RunningSince = now,
                MacAddress = mac,
                WrittenHeader = new SimulatedImageHeader(vmId, null, 0, 0),
            };
        }

        _logger.LogInformation(
            "Created {VmCount} simulated VMs of {ImageBytes} bytes on {VmmId} in {WorkDirectory}",
            vmCount,
            imageBytes,
            vmmId,
            workDirectory);
    }

    public event Action<string>? WorkloadCompleted;

    public string VmmId { get; }

    public IReadOnlyList<VmInfo> Vms
    {
        get
        {
            lock (_gate)
            {
                var now = _timeProvider.GetTimestamp();
                return [.. _vms.Values.Select(vm => new VmInfo(
                    vm.VmId, vm.State, vm.Bytes, vm.Sha256, vm.MacAddress, ProgressAt(vm, now), vm.WorkloadTarget))];
            }
        }
    }

    public async Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken)
    {
        await _operations.WaitAsync(cancellationToken);
        try
        {
            List<(SimulatedVm Vm, SimulatedImageHeader Header)> snapshot;
            var pausedNow = 0;
            lock (_gate)
            {
                ThrowIfDisposed();
                var now = _timeProvider.GetTimestamp();
                foreach (var vm in _vms.Values.Where(vm => vm.State == VmState.Running))
                {
                    vm.WorkloadProgress = ProgressAt(vm, now);
                    vm.RunningSince = null;
                    vm.State = VmState.Paused;
                    pausedNow++;
                }

                snapshot = [.. _vms.Values.Select(vm => (vm, new SimulatedImageHeader(vm.VmId, vm.WorkloadId, vm.WorkloadProgress, vm.WorkloadTarget)))];
            }

            var images = new List<VmImage>(snapshot.Count);
            foreach (var (vm, header) in snapshot)
            {
                images.Add(new VmImage(vm.VmId, vm.Bytes, await SaveImageAsync(vm, header, cancellationToken)));
            }

            _logger.LogInformation(
                "Paused {PausedCount} VMs on {VmmId}; {VmCount} paused images ready ({TotalBytes} bytes)",
                pausedNow,
                VmmId,
                images.Count,
                images.Sum(i => i.Bytes));
            EvaluateWorkloads();
            return images;
        }
        finally
        {
            _operations.Release();
        }
    }

    public Stream OpenImage(string vmId)
    {
        string path;
        lock (_gate)
        {
            var vm = Find(vmId);
            if (vm.State != VmState.Paused)
            {
                throw new InvalidOperationException(
                    $"VM {vmId} on {VmmId} is {vm.State}; its image can only be read while it is paused (pause it first).");
            }

            path = vm.ImagePath;
        }

        return ImageFiles.OpenPaused(path);
    }

    /// <summary>A simulated image is written whole before <see cref="PauseAllAsync"/> returns: it is always sealed.</summary>
    public Task<VmImage> SealedImageAsync(string vmId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var vm = Find(vmId);
            return vm.Sha256 is { } sha256
                ? Task.FromResult(new VmImage(vm.VmId, vm.Bytes, sha256))
                : Task.FromException<VmImage>(new InvalidOperationException($"VM {vmId} on {VmmId} has no image yet (pause it first)."));
        }
    }

    public async Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        var target = ImagePathFor(vmId);
        await _operations.WaitAsync(cancellationToken);
        try
        {
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
            bool replaced;
            lock (_gate)
            {
                ThrowIfDisposed();
                replaced = _vms.ContainsKey(vmId);
                var mac = MacAddresses.Original(vmId);
                _vms[vmId] = new SimulatedVm(vmId, target, bytes, mac)
                {
                    State = VmState.Paused,
                    MacAddress = mac,
                    Sha256 = sha256.ToLowerInvariant(),
                    WorkloadId = header.WorkloadId,
                    WorkloadProgress = header.WorkloadProgress,
                    WorkloadTarget = header.WorkloadTarget,
                    WrittenHeader = header,
                    IsUnresumedCopy = true,
                };

                // A new carrier of the workload: its completion here is news again.
                if (header.WorkloadId is not null)
                {
                    _workloads.Carried(header.WorkloadId);
                }
            }

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
        finally
        {
            _operations.Release();
        }
    }

    public async Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken)
    {
        await _operations.WaitAsync(cancellationToken);
        try
        {
            SimulatedVm vm;
            string mac;
            string? sha256;
            lock (_gate)
            {
                ThrowIfDisposed();
                vm = Find(vmId);
                if (newIdentity)
                {
                    vm.MacAddress = MacAddresses.NewForCopy(vm.OriginalMacAddress, vm.MacAddress);
                }

                if (vm.State != VmState.Running)
                {
                    vm.State = VmState.Running;
                    vm.RunningSince = _timeProvider.GetTimestamp();
                }

                vm.IsUnresumedCopy = false;
                mac = vm.MacAddress;
                sha256 = vm.Sha256;
            }

            // A VM that was never paused has no recorded digest; its file is still its last state.
            sha256 ??= await HashAsync(vm.ImagePath, cancellationToken);

            _logger.LogInformation(
                "Resumed VM {VmId} on {VmmId} with MAC {MacAddress} ({Identity})",
                vmId,
                VmmId,
                mac,
                newIdentity ? "new identity" : "original identity");
            EvaluateWorkloads();
            return new VmCopy(vmId, sha256, VmState.Running, mac);
        }
        finally
        {
            _operations.Release();
        }
    }

    public async Task<bool> RecoverAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        var path = ImagePathFor(vmId);
        lock (_gate)
        {
            if (_vms.TryGetValue(vmId, out var held) && string.Equals(held.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        if (!File.Exists(path) || !string.Equals(await HashAsync(path, cancellationToken), sha256, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        await AdoptAsync(vmId, path, sha256, cancellationToken);
        return true;
    }

    public async Task<bool> DiscardAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        await _operations.WaitAsync(cancellationToken);
        try
        {
            string path;
            lock (_gate)
            {
                ThrowIfDisposed();
                if (!_vms.TryGetValue(vmId, out var vm) || !vm.IsUnresumedCopy || !string.Equals(vm.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                _vms.Remove(vmId);
                path = vm.ImagePath;
            }

            File.Delete(path);
            _logger.LogInformation("Discarded copy {VmId} ({Sha256}) on {VmmId}", vmId, sha256, VmmId);
            return true;
        }
        finally
        {
            _operations.Release();
        }
    }

    public WorkloadReport ReportWorkload(string workloadId)
    {
        EvaluateWorkloads();
        lock (_gate)
        {
            return _workloads.Report(workloadId);
        }
    }

    public Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workloadId);
        if (work < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(work), work, "A workload's work cannot be negative.");
        }

        var target = (work.Ticks + WorkTick.Ticks - 1) / WorkTick.Ticks;
        int vmCount;
        lock (_gate)
        {
            ThrowIfDisposed();
            var now = _timeProvider.GetTimestamp();
            foreach (var vm in _vms.Values)
            {
                vm.WorkloadId = workloadId;
                vm.WorkloadTarget = target;
                vm.WorkloadProgress = 0;
                if (vm.State == VmState.Running)
                {
                    vm.RunningSince = now;
                }
            }

            vmCount = _vms.Count;
            _workloads.Started(workloadId);
        }

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
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // The image files stay: the work directory belongs to the caller.
        await _completionTimer.DisposeAsync();
    }

    private long ProgressAt(SimulatedVm vm, long now)
    {
        if (vm.RunningSince is not { } since || vm.WorkloadProgress >= vm.WorkloadTarget)
        {
            return vm.WorkloadProgress;
        }

        var done = vm.WorkloadProgress + (_timeProvider.GetElapsedTime(since, now).Ticks / WorkTick.Ticks);
        return Math.Min(done, vm.WorkloadTarget);
    }

    /// <summary>
    /// Raises <see cref="WorkloadCompleted"/> for every workload whose carriers have all reached their
    /// target, then sets the timer for the next VM that will reach its target.
    /// </summary>
    private void EvaluateWorkloads()
    {
        var completed = new List<string>();
        TimeSpan nextDue = Timeout.InfiniteTimeSpan;
        long generation;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var now = _timeProvider.GetTimestamp();
            foreach (var carriers in _vms.Values.Where(vm => vm.WorkloadId is not null).GroupBy(vm => vm.WorkloadId!))
            {
                if (_workloads.IsRaised(carriers.Key))
                {
                    continue;
                }

                if (carriers.All(vm => ProgressAt(vm, now) >= vm.WorkloadTarget))
                {
                    _workloads.TryComplete(carriers.Key, _timeProvider.GetUtcNow());
                    completed.Add(carriers.Key);
                    continue;
                }

                foreach (var vm in carriers.Where(vm => vm.RunningSince is not null))
                {
                    var remaining = TimeSpan.FromTicks((vm.WorkloadTarget - vm.WorkloadProgress) * WorkTick.Ticks) - _timeProvider.GetElapsedTime(vm.RunningSince!.Value, now);
                    if (remaining > TimeSpan.Zero && (nextDue == Timeout.InfiniteTimeSpan || remaining < nextDue))
                    {
                        nextDue = remaining;
                    }
                }
            }

            generation = ++_timerGeneration;
        }

        // Set outside the table lock: a fake clock may run the callback inline, and only the latest
        // evaluation's due time may win.
        lock (_timerGate)
        {
            if (generation == Interlocked.Read(ref _timerGeneration))
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

        foreach (var workloadId in completed)
        {
            _logger.LogInformation("Workload {WorkloadId} completed on {VmmId}", workloadId, VmmId);
            try
            {
                WorkloadCompleted?.Invoke(workloadId);
            }
            catch (Exception ex)
            {
                // A handler's failure must not take down the timer thread (and with it the process).
                _logger.LogError(ex, "A WorkloadCompleted handler failed for workload {WorkloadId} on {VmmId}", workloadId, VmmId);
            }
        }
    }

    private async Task<string> SaveImageAsync(SimulatedVm vm, SimulatedImageHeader header, CancellationToken cancellationToken)
    {
        string? known;
        lock (_gate)
        {
            known = vm.WrittenHeader == header ? vm.Sha256 : null;
        }

        // Only the header changes in a simulated VM; an unchanged header means an unchanged image.
        if (known is not null)
        {
            return known;
        }

        await SimulatedImage.WriteHeaderAsync(vm.ImagePath, header, cancellationToken);
        var sha256 = await HashAsync(vm.ImagePath, cancellationToken);
        lock (_gate)
        {
            vm.WrittenHeader = header;
            vm.Sha256 = sha256;
        }

        return sha256;
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(
            path, FileMode.Open, FileAccess.Read, FileShare.Read, SimulatedImage.BlockBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }

    private SimulatedVm Find(string vmId) =>
        _vms.TryGetValue(vmId, out var vm)
            ? vm
            : throw new KeyNotFoundException(
                $"VMM {VmmId} has no VM {vmId}; it supports {(_vms.Count == 0 ? "none" : string.Join(", ", _vms.Keys))}.");

    private string ImagePathFor(string vmId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vmId);
        if (vmId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || vmId.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"VM id \"{vmId}\" cannot name an image file; use letters, digits, '-', '_' and '.'.", nameof(vmId));
        }

        return Path.Combine(_workDirectory, vmId + ".img");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private sealed class SimulatedVm(string vmId, string imagePath, long bytes, string originalMacAddress)
    {
        public string VmId { get; } = vmId;

        public string ImagePath { get; } = imagePath;

        public long Bytes { get; } = bytes;

        public string OriginalMacAddress { get; } = originalMacAddress;

        public required VmState State { get; set; }

        public required string MacAddress { get; set; }

        public string? Sha256 { get; set; }

        /// <summary>The header as the file holds it now.</summary>
        public required SimulatedImageHeader WrittenHeader { get; set; }

        public string? WorkloadId { get; set; }

        /// <summary>Work done up to <see cref="RunningSince"/> (or in total, while paused).</summary>
        public long WorkloadProgress { get; set; }

        public long WorkloadTarget { get; set; }

        /// <summary>Timestamp from the VMM's clock when the VM last started running; null while paused.</summary>
        public long? RunningSince { get; set; }

        /// <summary>True for a copy adopted from a transfer that has not run here since: discarding it loses nothing.</summary>
        public bool IsUnresumedCopy { get; set; }
    }
}
