using System.Diagnostics;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// A VMM that runs each VM as a QEMU process driven through QMP (<see cref="QemuVm"/>). A paused VM's image is its full
/// state: a small header (<see cref="QemuStateHeader"/>) followed by QEMU's migration stream, saved by migrating the
/// stopped VM to a unix socket this VMM listens on. A receiver starts QEMU in incoming mode and feeds it that stream.
/// </summary>
public sealed class QemuVmm : IVmm
{
    public const string Kind = "qemu";

    private readonly QemuRuntime _runtime;
    private readonly ILogger<QemuVmm> _logger;
    private readonly VmmOperations _operations = new();
    private readonly VmTable<QemuVm> _vms;
    private readonly Task _poller;
    private VmDefinition _definition;

    /// <summary>
    /// Creates the VMM and starts, in the background (<see cref="Ready"/>), <paramref name="vmCount"/> running VMs
    /// named <c>{vmmId}-vm-{n}</c> (n from 1) from <paramref name="options"/>. A receiving VMM starts with no VMs
    /// and gets its VMs through <see cref="AdoptAsync"/>.
    /// </summary>
    public QemuVmm(
        string vmmId,
        string workDirectory,
        int vmCount,
        QemuOptions options,
        TimeProvider timeProvider,
        ILogger<QemuVmm> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vmmId);
        ArgumentException.ThrowIfNullOrWhiteSpace(workDirectory);
        ArgumentOutOfRangeException.ThrowIfNegative(vmCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MemoryMiB, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.MachineType);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Binary);

        VmmId = vmmId;
        _logger = logger;
        var files = new QemuFiles(workDirectory);
        _runtime = new QemuRuntime(vmmId, options, files, timeProvider, logger, _operations.Stopping);
        _vms = new VmTable<QemuVm>(vmmId, typeof(QemuVmm), timeProvider, logger);
        var reclaimed = files.ReclaimLeftovers();
        if (reclaimed > 0)
        {
            _logger.LogInformation("Reclaimed {LeftoverCount} partial saves and stale sockets of an earlier run of {VmmId} in {WorkDirectory}", reclaimed, VmmId, files.WorkDirectory);
        }

        _definition = new VmDefinition(Kind, options.MemoryMiB, options.MachineType, options.BootImage ?? CounterWorkload.FindImage());
        var vms = new List<QemuVm>(vmCount);
        for (var n = 1; n <= vmCount; n++)
        {
            var vm = new QemuVm(_runtime, $"{vmmId}-vm-{n}", _definition);
            _vms.Put(vm, carriedWorkloadId: null);
            vms.Add(vm);
        }

        Ready = vmCount == 0 ? Task.CompletedTask : Task.Run(() => StartVmsAsync(vms, _operations.Stopping));
        _poller = Task.Run(PollAsync);
    }

    public event Action<string>? WorkloadCompleted
    {
        add => _vms.WorkloadCompleted += value;
        remove => _vms.WorkloadCompleted -= value;
    }

    public string VmmId { get; }

    /// <summary>The definition of the VMs this VMM creates (the machine type resolved to its versioned name once QEMU ran).</summary>
    public VmDefinition Definition => Volatile.Read(ref _definition);

    /// <summary>Completes when every VM the VMM was created with runs its guest; faults with the reason when one could not start.</summary>
    public Task Ready { get; }

    public IReadOnlyList<VmInfo> Vms => _vms.Infos();

    /// <summary>Reads a VM's counter from guest memory now (also refreshes <see cref="Vms"/>); null before the guest initialised it.</summary>
    public async Task<CounterReading?> ReadCounterAsync(string vmId, CancellationToken cancellationToken)
    {
        _vms.ThrowIfDisposed();
        var vm = _vms.Find(vmId);
        return await vm.RefreshAsync(vm.Live("it must be running or paused").Process, cancellationToken);
    }

    public async Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken)
    {
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var operation = await _operations.EnterAsync(cancellationToken);
        var vms = _vms.Select(vm => (Vm: vm, Live: vm.Live("it has no state to save")));

        // Stop every VM before saving any, so the images are of one moment.
        await Task.WhenAll(vms.Where(v => v.Live.Running).Select(v => v.Vm.PauseAsync(v.Live.Process, operation.Token)));

        // Every migration starts now, side by side; the call returns once each has started, so the transfer can
        // relay the streams while QEMU still writes them. A VM that has not run since its image was made (adopted,
        // or paused before) keeps that image: migrating it again would produce the same state.
        await Task.WhenAll(vms.Where(v => v.Vm.NeedsSave).Select(v => v.Vm.StartSaveAsync(v.Live.Process)));

        var images = vms.Select(v => v.Vm.PausedImage).ToList();
        _logger.LogInformation(
            "Paused {PausedCount} VMs on {VmmId}; {VmCount} paused images, {StreamingCount} of them still being saved",
            vms.Count(v => v.Live.Running),
            VmmId,
            images.Count,
            images.Count(i => !i.IsSealed));
        EvaluateWorkloads();
        return images;
    }

    public Stream OpenImage(string vmId) => _vms.Find(vmId).OpenImage();

    public async Task<VmImage> SealedImageAsync(string vmId, CancellationToken cancellationToken)
    {
        var image = await _vms.Find(vmId).SealedImageAsync(cancellationToken);
        return image with { Definition = _vms.Find(vmId).Definition };
    }

    /// <summary>
    /// Starts a QEMU for the VM the image describes (its header holds the definition), in incoming mode and paused,
    /// and loads the state into it. The image may still be growing as a pipe: it is read once, front to back.
    /// </summary>
    public async Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var operation = await _operations.EnterAsync(cancellationToken);
        _vms.ThrowIfDisposed();
        await SaveEndedAsync(vmId);
        var started = Stopwatch.StartNew();
        var replaced = false;
        var vm = await QemuVm.LoadAsync(_runtime, vmId, imagePath, sha256, async () => replaced = await RetireAsync(vmId), operation.Token);
        var now = _runtime.TimeProvider.GetTimestamp();
        var workload = vm.WorkloadAt(now);
        try
        {
            _vms.Put(vm, workload?.WorkloadId);
        }
        catch (ObjectDisposedException)
        {
            // Disposed while the state loaded: the VMM stops only the QEMUs in its table, so this one goes here.
            await vm.StopAsync();
            throw;
        }

        var copy = vm.InfoAt(now);
        _logger.LogInformation(
            "Adopted VM {VmId} on {VmmId} ({Bytes} bytes, {Sha256}) in {ElapsedMs} ms: paused at workload {WorkloadId} {WorkloadProgress}/{WorkloadTarget}{Replacement}",
            vmId,
            VmmId,
            copy.Bytes,
            copy.Sha256,
            started.ElapsedMilliseconds,
            workload?.WorkloadId,
            copy.WorkloadProgress,
            copy.WorkloadTarget,
            replaced ? ", replacing the VM of that id" : string.Empty);
    }

    public async Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken)
    {
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var operation = await _operations.EnterAsync(cancellationToken);
        // QEMU is still migrating a VM whose image is being saved: it runs again only once its state is written.
        await SaveEndedAsync(vmId);
        _vms.ThrowIfDisposed();
        var copy = await _vms.Find(vmId).ResumeAsync(newIdentity, operation.Token);
        _logger.LogInformation(
            "Resumed VM {VmId} on {VmmId} with MAC {MacAddress} ({Identity})",
            vmId,
            VmmId,
            copy.MacAddress,
            newIdentity ? "new identity" : "original identity");
        EvaluateWorkloads();
        return copy;
    }

    /// <summary>Loads the state file the VMM kept of an adopted copy into a new QEMU, as the adoption did (the digest is checked on the way).</summary>
    public async Task<bool> RecoverAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        var path = _runtime.Files.StatePathFor(vmId);
        if (_vms.Get(vmId)?.Holds(sha256) == true)
        {
            return true;
        }

        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            await AdoptAsync(vmId, path, sha256, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is QemuVmException or InvalidDataException or IOException)
        {
            _logger.LogWarning("Could not recover copy {VmId} on {VmmId} from {StatePath}: {Reason}", vmId, VmmId, path, e.Message);
            return false;
        }
    }

    /// <summary>Stops the copy's QEMU (it never ran: nothing is lost) and deletes its state file.</summary>
    public async Task<bool> DiscardAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        using var operation = await _operations.EnterAsync(cancellationToken);
        _vms.ThrowIfDisposed();
        if (_vms.Get(vmId) is not { } vm || !vm.IsUnresumedCopyOf(sha256))
        {
            return false;
        }

        await RetireAsync(vmId);
        File.Delete(vm.StatePath);
        _logger.LogInformation("Discarded copy {VmId} ({Sha256}) on {VmmId}", vmId, sha256, VmmId);
        return true;
    }

    public WorkloadReport ReportWorkload(string workloadId) => _vms.Report(workloadId);

    public async Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken)
    {
        WorkloadTracker.ThrowIfInvalid(workloadId, work);
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using (var operation = await _operations.EnterAsync(cancellationToken))
        {
            var target = CounterWorkload.TargetFor(work);
            var vms = _vms.StartWorkload(workloadId, vm => (Vm: vm, vm.Live("it cannot run a workload").Process));
            if (vms.Count == 0)
            {
                _logger.LogWarning("Workload {WorkloadId} not started on {VmmId}: the VMM has no VMs to run it", workloadId, VmmId);
                return;
            }

            foreach (var (vm, process) in vms)
            {
                await vm.StartWorkloadAsync(process, workloadId, target, operation.Token);
            }

            _logger.LogInformation(
                "Started workload {WorkloadId} on {VmmId} in {VmCount} VMs: {Work} of work ({WorkloadTarget} guest ticks) each",
                workloadId,
                VmmId,
                vms.Count,
                work,
                target);
        }

        EvaluateWorkloads();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_vms.TryDispose())
        {
            return;
        }

        await _operations.StopAsync();
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _poller.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // Operations see the cancellation and end; their QEMUs are then in the table or gone.
        await _operations.CloseAsync();

        // Saves still streaming saw the cancellation: let them close their files before their QEMUs go.
        await Task.WhenAll(_vms.All().Select(vm => vm.SaveEnded));
        var stopped = await Task.WhenAll(_vms.All().Select(vm => vm.StopAsync()));
        _logger.LogInformation("Stopped {QemuCount} QEMU processes of {VmmId}", stopped.Count(s => s), VmmId);

        try
        {
            _runtime.Files.DeleteSockets();
        }
        catch (IOException e)
        {
            _logger.LogDebug(e, "Could not remove socket directory {SocketDirectory} of {VmmId}", _runtime.Files.SocketDirectory, VmmId);
        }

        _operations.Dispose();
    }

    private async Task StartVmsAsync(IReadOnlyList<QemuVm> vms, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var definition = await QemuVm.StartAllAsync(_runtime, vms, Definition, cancellationToken);
        Volatile.Write(ref _definition, definition);
        _logger.LogInformation(
            "Started {VmCount} QEMU VMs on {VmmId} in {ElapsedMs} ms ({MemoryMiB} MiB, machine {MachineType}, boot image {BootImage}, accel {Accelerator})",
            vms.Count,
            VmmId,
            started.ElapsedMilliseconds,
            definition.MemoryMiB,
            definition.MachineType,
            definition.BootImage,
            _runtime.Options.Accelerator);
    }

    private async Task PollAsync()
    {
        using var timer = new PeriodicTimer(_runtime.Options.PollInterval, _runtime.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_operations.Stopping))
            {
                foreach (var vm in _vms.All())
                {
                    await vm.PollAsync(_operations.Stopping);
                }

                EvaluateWorkloads();
            }
        }
        catch (OperationCanceledException) when (_operations.Stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>Raises <see cref="WorkloadCompleted"/> for every workload whose carriers have all reached their target.</summary>
    private void EvaluateWorkloads() => _vms.Raise(_vms.CompleteWorkloads());

    /// <summary>Waits until the VM's image is no longer being written (sealed or failed).</summary>
    private Task SaveEndedAsync(string vmId) => _vms.Get(vmId)?.SaveEnded ?? Task.CompletedTask;

    /// <summary>Stops and forgets the VM of that id, if any, so an adoption can take its place.</summary>
    private async Task<bool> RetireAsync(string vmId)
    {
        if (_vms.Remove(vmId) is not { } existing)
        {
            return false;
        }

        await existing.StopAsync();
        return true;
    }
}
