using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Treecast.Agent.Images;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// A VMM that runs each VM as a QEMU process driven through QMP. A paused VM's image is its full state: a small
/// header (<see cref="QemuStateHeader"/>) followed by QEMU's migration stream, saved by migrating the stopped VM to a
/// unix socket this VMM listens on. A receiver starts QEMU in incoming mode and feeds it that stream.
/// </summary>
public sealed class QemuVmm : IVmm
{
    public const string Kind = "qemu";

    // sockaddr_un holds 108 bytes; a longer work directory gets its sockets in a short directory of its own.
    private const int MaxSocketDirectoryLength = 80;

    private readonly string _workDirectory;
    private readonly string _socketDirectory;
    private readonly QemuOptions _options;
    private readonly QemuMigration _migration;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<QemuVmm> _logger;

    // Serializes pause, adoption, resume and workload starts: each changes which QEMU runs a VM or what its image is.
    private readonly SemaphoreSlim _operations = new(1, 1);

    // Guards the VM table; never held across I/O, an await, or a call out to event handlers.
    private readonly Lock _gate = new();
    private readonly Dictionary<string, QemuVm> _vms = new(StringComparer.Ordinal);
    private readonly WorkloadTracker _workloads = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task _poller;
    private int _socketSequence;
    private bool _disposed;

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
        _options = options;
        _migration = new QemuMigration(vmmId, options.MigrationTimeout);
        _timeProvider = timeProvider;
        _logger = logger;
        _workDirectory = Path.GetFullPath(workDirectory);
        Directory.CreateDirectory(_workDirectory);
        var socketDirectory = Path.Combine(_workDirectory, "sockets");
        _socketDirectory = socketDirectory.Length > MaxSocketDirectoryLength
            ? Path.Combine(Path.GetTempPath(), $"tcq-{Guid.NewGuid():N}"[..12])
            : socketDirectory;
        Directory.CreateDirectory(_socketDirectory);
        ReclaimLeftovers();

        Definition = new VmDefinition(Kind, options.MemoryMiB, options.MachineType, options.BootImage ?? CounterGuest.FindImage());
        var vms = new List<QemuVm>(vmCount);
        for (var n = 1; n <= vmCount; n++)
        {
            var vmId = $"{vmmId}-vm-{n}";
            var vm = new QemuVm(vmId, StatePathFor(vmId), MacAddresses.Original(vmId)) { Definition = Definition };
            _vms[vmId] = vm;
            vms.Add(vm);
        }

        Ready = vmCount == 0 ? Task.CompletedTask : Task.Run(() => StartVmsAsync(vms, _disposing.Token));
        _poller = Task.Run(PollAsync);
    }

    public event Action<string>? WorkloadCompleted;

    public string VmmId { get; }

    /// <summary>The definition of the VMs this VMM creates (the machine type resolved to its versioned name once QEMU ran).</summary>
    public VmDefinition Definition { get; private set; }

    /// <summary>Completes when every VM the VMM was created with runs its guest; faults with the reason when one could not start.</summary>
    public Task Ready { get; }

    public IReadOnlyList<VmInfo> Vms
    {
        get
        {
            lock (_gate)
            {
                return [.. _vms.Values.Select(vm => new VmInfo(
                    vm.VmId, vm.State, vm.Bytes, vm.Sha256, vm.MacAddress, vm.WorkloadProgress, vm.WorkloadTarget))];
            }
        }
    }

    /// <summary>Reads a VM's counter from guest memory now (also refreshes <see cref="Vms"/>); null before the guest initialised it.</summary>
    public async Task<CounterReading?> ReadCounterAsync(string vmId, CancellationToken cancellationToken)
    {
        var (vm, process) = Live(vmId);
        return await RefreshAsync(vm, process, cancellationToken);
    }

    public async Task<IReadOnlyList<VmImage>> PauseAllAsync(CancellationToken cancellationToken)
    {
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var operation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        await _operations.WaitAsync(operation.Token);
        try
        {
            List<(QemuVm Vm, QemuProcess Process, bool Running)> vms;
            lock (_gate)
            {
                ThrowIfDisposed();
                vms = [.. _vms.Values.Select(vm => (vm, vm.Process ?? throw Stopped(vm, "it has no state to save"), vm.State == VmState.Running))];
            }

            // Stop every VM before saving any, so the images are of one moment.
            await Task.WhenAll(vms.Where(v => v.Running).Select(v => StopAsync(v.Vm, v.Process, operation.Token)));

            // Every migration starts now, side by side; the call returns once each has started, so the transfer can
            // relay the streams while QEMU still writes them. A VM that has not run since its image was made (adopted,
            // or paused before) keeps that image: migrating it again would produce the same state.
            await Task.WhenAll(vms.Where(v => NeedsSave(v.Vm)).Select(v => StartSaveAsync(v.Vm, v.Process)));

            var images = new List<VmImage>(vms.Count);
            lock (_gate)
            {
                foreach (var (vm, _, _) in vms)
                {
                    images.Add(vm.StateIsCurrent
                        ? new VmImage(vm.VmId, vm.Bytes, vm.Sha256!, vm.Definition)
                        : VmImage.Unsealed(vm.VmId, vm.Definition));
                }
            }

            _logger.LogInformation(
                "Paused {PausedCount} VMs on {VmmId}; {VmCount} paused images, {StreamingCount} of them still being saved",
                vms.Count(v => v.Running),
                VmmId,
                images.Count,
                images.Count(i => !i.IsSealed));
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
            if (vm.State == VmState.Paused && !vm.StateIsCurrent && vm.Saving is { } saving)
            {
                // Still being saved (or its save failed): follow the stream; a failed save fails the reader with its reason.
                return saving.OpenRead();
            }

            if (vm.State != VmState.Paused || !vm.StateIsCurrent)
            {
                throw new InvalidOperationException(
                    $"VM {vmId} on {VmmId} is {vm.State}; its image can only be read while it is paused (pause it first).");
            }

            path = vm.StatePath;
        }

        return ImageFiles.OpenPaused(path);
    }

    public async Task<VmImage> SealedImageAsync(string vmId, CancellationToken cancellationToken)
    {
        GrowingImage? saving;
        lock (_gate)
        {
            var vm = Find(vmId);
            if (vm.StateIsCurrent && vm.Sha256 is { } sha256)
            {
                return new VmImage(vm.VmId, vm.Bytes, sha256, vm.Definition);
            }

            saving = vm.State == VmState.Paused ? vm.Saving : null;
            if (saving is null)
            {
                throw new InvalidOperationException($"VM {vmId} on {VmmId} is {vm.State} and has no image being saved (pause it first).");
            }
        }

        var image = await saving.Sealed.WaitAsync(cancellationToken);
        lock (_gate)
        {
            return image with { Definition = Find(vmId).Definition };
        }
    }

    /// <summary>
    /// Starts a QEMU for the VM the image describes (its header holds the definition), in incoming mode and paused,
    /// and loads the state into it. The image may still be growing as a pipe: it is read once, front to back.
    /// </summary>
    public async Task AdoptAsync(string vmId, string imagePath, string sha256, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sha256);
        var target = StatePathFor(vmId);
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var operation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        await _operations.WaitAsync(operation.Token);
        try
        {
            ThrowIfDisposed();
            await SaveEndedAsync(vmId);
            var started = Stopwatch.StartNew();
            await using var image = new FileStream(
                imagePath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var (header, headerBytes) = await QemuStateHeader.ReadAsync(image, imagePath, operation.Token);
            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            digest.AppendData(headerBytes);
            if (header.VmId != vmId)
            {
                throw new InvalidDataException(
                    $"{imagePath} holds the image of VM {header.VmId}, not of {vmId}; the transfer wrote the wrong file for this VM.");
            }

            ValidateDefinition(vmId, header.Definition);
            var replaced = await RetireAsync(vmId);

            // Renaming an open file keeps the handle reading it, so the stream can be fed from its final place.
            if (!string.Equals(Path.GetFullPath(imagePath), target, StringComparison.Ordinal))
            {
                File.Move(imagePath, target, overwrite: true);
            }

            var process = await QemuProcess.StartAsync(
                VmmId, vmId, _options.Binary, _options.Accelerator, header.Definition, incoming: true, NextSocketPath("qmp"), _options.StartTimeout, _logger, operation.Token);
            long streamBytes;
            CounterReading? reading;
            try
            {
                streamBytes = await _migration.LoadAsync(process, image, digest, NextSocketPath("in"), operation.Token);
                var loaded = Convert.ToHexStringLower(digest.GetHashAndReset());

                // The transfer verified the file; this guards the bytes QEMU actually read, which may have come from a pipe.
                if (!string.Equals(loaded, sha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new QemuVmException(
                        vmId, $"VM {vmId} on {VmmId}: the state QEMU loaded has SHA-256 {loaded}, not the announced {sha256.ToLowerInvariant()}; the image changed after it was verified.");
                }

                reading = CounterGuest.ParseBlock(await process.Qmp.HumanMonitorCommandAsync(CounterGuest.ReadBlockCommand, operation.Token));
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }

            var originalMac = MacAddresses.Original(vmId);
            var vm = new QemuVm(vmId, target, originalMac)
            {
                Definition = header.Definition,
                Process = process,
                State = VmState.Paused,
                Bytes = headerBytes.Length + streamBytes,
                Sha256 = sha256.ToLowerInvariant(),
                StateIsCurrent = true,

                // Decided now, because a NIC's MAC is fixed when its QEMU starts: a copy resumed with a new identity takes it.
                CopyMacAddress = MacAddresses.NewForCopy(originalMac),
                WorkloadId = header.WorkloadId,
                WorkloadTarget = header.WorkloadTarget,
                Generation = header.WorkloadGeneration,
                IsUnresumedCopy = true,
            };
            if (reading is not null)
            {
                vm.Apply(reading);
            }

            lock (_gate)
            {
                ThrowIfDisposed();
                _vms[vmId] = vm;

                // A new carrier of the workload: its completion here is news again.
                if (header.WorkloadId is not null)
                {
                    _workloads.Carried(header.WorkloadId);
                }
            }

            _ = WatchAsync(vm, process);
            _logger.LogInformation(
                "Adopted VM {VmId} on {VmmId} ({Bytes} bytes, {Sha256}) in {ElapsedMs} ms: paused at workload {WorkloadId} {WorkloadProgress}/{WorkloadTarget}{Replacement}",
                vmId,
                VmmId,
                vm.Bytes,
                vm.Sha256,
                started.ElapsedMilliseconds,
                header.WorkloadId,
                vm.WorkloadProgress,
                vm.WorkloadTarget,
                replaced ? ", replacing the VM of that id" : string.Empty);
        }
        finally
        {
            _operations.Release();
        }
    }

    public async Task<VmCopy> ResumeAsync(string vmId, bool newIdentity, CancellationToken cancellationToken)
    {
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var operation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        await _operations.WaitAsync(operation.Token);
        try
        {
            // QEMU is still migrating a VM whose image is being saved: it runs again only once its state is written.
            await SaveEndedAsync(vmId);
            var (vm, process) = Live(vmId);
            bool running;
            lock (_gate)
            {
                running = vm.State == VmState.Running;
            }

            if (!running)
            {
                await Execute(process, "cont", null, operation.Token);
            }

            string mac;
            string? sha256;
            lock (_gate)
            {
                if (newIdentity)
                {
                    vm.MacAddress = vm.CopyMacAddress ?? MacAddresses.NewForCopy(vm.OriginalMacAddress, vm.MacAddress);
                    vm.CopyMacAddress = null;
                }

                vm.State = VmState.Running;
                vm.StateIsCurrent = false;
                vm.Saving = null;
                vm.IsUnresumedCopy = false;
                mac = vm.MacAddress;
                sha256 = vm.Sha256;
            }

            _logger.LogInformation(
                "Resumed VM {VmId} on {VmmId} with MAC {MacAddress} ({Identity})",
                vmId,
                VmmId,
                mac,
                newIdentity ? "new identity" : "original identity");
            EvaluateWorkloads();

            // A VM that was never paused has no image, hence no digest.
            return new VmCopy(vmId, sha256 ?? string.Empty, VmState.Running, mac);
        }
        finally
        {
            _operations.Release();
        }
    }

    /// <summary>Loads the state file the VMM kept of an adopted copy into a new QEMU, as the adoption did (the digest is checked on the way).</summary>
    public async Task<bool> RecoverAsync(string vmId, string sha256, CancellationToken cancellationToken)
    {
        var path = StatePathFor(vmId);
        lock (_gate)
        {
            if (_vms.TryGetValue(vmId, out var held) && held.Process is not null && string.Equals(held.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
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
        using var operation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        await _operations.WaitAsync(operation.Token);
        try
        {
            QemuVm vm;
            lock (_gate)
            {
                ThrowIfDisposed();
                if (!_vms.TryGetValue(vmId, out var found) || !found.IsUnresumedCopy || !string.Equals(found.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                vm = found;
            }

            await RetireAsync(vmId);
            File.Delete(vm.StatePath);
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
        lock (_gate)
        {
            return _workloads.Report(workloadId);
        }
    }

    public async Task StartWorkloadAsync(string workloadId, TimeSpan work, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workloadId);
        if (work < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(work), work, "A workload's work cannot be negative.");
        }

        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var operation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        await _operations.WaitAsync(operation.Token);
        try
        {
            var target = CounterGuest.TargetFor(work);
            List<(QemuVm Vm, QemuProcess Process)> vms;
            lock (_gate)
            {
                ThrowIfDisposed();
                vms = [.. _vms.Values.Select(vm => (vm, vm.Process ?? throw Stopped(vm, "it cannot run a workload")))];
                _workloads.Started(workloadId);
            }

            if (vms.Count == 0)
            {
                _logger.LogWarning("Workload {WorkloadId} not started on {VmmId}: the VMM has no VMs to run it", workloadId, VmmId);
                return;
            }

            foreach (var (vm, process) in vms)
            {
                byte generation;
                lock (_gate)
                {
                    // 1..255: generation 0 is the guest's "no workload yet".
                    generation = (byte)((vm.Generation % 255) + 1);
                }

                foreach (var command in CounterGuest.StartWorkloadCommands(target, generation))
                {
                    var output = await process.Qmp.HumanMonitorCommandAsync(command, operation.Token);
                    if (output.Trim().Length > 0)
                    {
                        throw new QemuVmException(vm.VmId, $"VM {vm.VmId} on {VmmId}: starting workload {workloadId} failed: '{command}' answered {output.Trim()}");
                    }
                }

                lock (_gate)
                {
                    vm.Generation = generation;
                    vm.WorkloadId = workloadId;
                    vm.WorkloadTarget = target;
                    vm.WorkloadProgress = 0;
                }
            }

            _logger.LogInformation(
                "Started workload {WorkloadId} on {VmmId} in {VmCount} VMs: {Work} of work ({WorkloadTarget} guest ticks) each",
                workloadId,
                VmmId,
                vms.Count,
                work,
                target);
        }
        finally
        {
            _operations.Release();
        }

        EvaluateWorkloads();
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

        await _disposing.CancelAsync();
        await Ready.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _poller.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // Operations see the cancellation and give the semaphore back; their QEMUs are then in the table or gone.
        await _operations.WaitAsync();

        // Saves still streaming saw the cancellation: let them close their files before their QEMUs go.
        List<Task> saves;
        lock (_gate)
        {
            saves = [.. _vms.Values.Select(vm => vm.SaveEnded)];
        }

        await Task.WhenAll(saves);
        List<QemuProcess> processes;
        lock (_gate)
        {
            processes = [.. _vms.Values.Select(vm => vm.Process).OfType<QemuProcess>()];
            foreach (var vm in _vms.Values)
            {
                vm.Process = null;
                vm.State = VmState.Stopped;
            }
        }

        await Task.WhenAll(processes.Select(async p => await p.DisposeAsync()));
        _logger.LogInformation("Stopped {QemuCount} QEMU processes of {VmmId}", processes.Count, VmmId);

        try
        {
            // The state files stay (the work directory belongs to the caller); the sockets are ours.
            Directory.Delete(_socketDirectory, recursive: true);
        }
        catch (IOException e)
        {
            _logger.LogDebug(e, "Could not remove socket directory {SocketDirectory} of {VmmId}", _socketDirectory, VmmId);
        }

        _disposing.Dispose();
    }

    private async Task StartVmsAsync(IReadOnlyList<QemuVm> vms, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var launches = vms.Select(vm => StartVmAsync(vm, cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(launches);
        }
        catch (Exception caught)
        {
            // One refused VM fails the VMM's start: leave no QEMU of this start running.
            foreach (var launch in launches.Where(l => l.IsCompletedSuccessfully))
            {
                await launch.Result.DisposeAsync();
            }

            lock (_gate)
            {
                foreach (var vm in vms)
                {
                    vm.Process = null;
                    vm.State = VmState.Stopped;
                    vm.Failure ??= "the VMM's start failed";
                }
            }

            var failure = launches.Select(l => l.Exception?.InnerException).OfType<Exception>().FirstOrDefault() ?? caught;
            _logger.LogError("Could not start the {VmCount} VMs of {VmmId}: {Reason}", vms.Count, VmmId, failure.Message);
            throw failure;
        }

        // In the table first: from here on, whatever fails, disposal finds and stops these QEMUs.
        lock (_gate)
        {
            for (var i = 0; i < vms.Count; i++)
            {
                vms[i].Process = launches[i].Result;
                vms[i].State = VmState.Running;
            }
        }

        foreach (var (vm, process) in vms.Zip(launches.Select(l => l.Result)))
        {
            _ = WatchAsync(vm, process);
        }

        var machine = await ResolveMachineTypeAsync(launches[0].Result, Definition.MachineType, cancellationToken);
        lock (_gate)
        {
            Definition = Definition with { MachineType = machine };
            foreach (var vm in vms)
            {
                vm.Definition = Definition;
            }
        }

        await Task.WhenAll(vms.Zip(launches.Select(l => l.Result)).Select(pair => WaitForGuestAsync(pair.First, pair.Second, cancellationToken)));
        _logger.LogInformation(
            "Started {VmCount} QEMU VMs on {VmmId} in {ElapsedMs} ms ({MemoryMiB} MiB, machine {MachineType}, boot image {BootImage}, accel {Accelerator})",
            vms.Count,
            VmmId,
            started.ElapsedMilliseconds,
            Definition.MemoryMiB,
            Definition.MachineType,
            Definition.BootImage,
            _options.Accelerator);
    }

    private async Task<QemuProcess> StartVmAsync(QemuVm vm, CancellationToken cancellationToken)
    {
        try
        {
            ValidateDefinition(vm.VmId, vm.Definition);
            var process = await QemuProcess.StartAsync(
                VmmId, vm.VmId, _options.Binary, _options.Accelerator, vm.Definition, incoming: false, NextSocketPath("qmp"), _options.StartTimeout, _logger, cancellationToken);
            try
            {
                // Sources save their state as fast as the socket takes it; QEMU's default caps a migration at 32 MiB/s.
                await Execute(process, "migrate-set-parameters", new JsonObject { ["max-bandwidth"] = long.MaxValue / 2 }, cancellationToken);
                await Execute(process, "cont", null, cancellationToken);
                return process;
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                vm.Failure = e.Message;
            }

            throw;
        }
    }

    private async Task WaitForGuestAsync(QemuVm vm, QemuProcess process, CancellationToken cancellationToken)
    {
        var deadline = _timeProvider.GetTimestamp();
        while (_timeProvider.GetElapsedTime(deadline) < _options.StartTimeout)
        {
            if (await RefreshAsync(vm, process, cancellationToken) is not null)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), _timeProvider, cancellationToken);
        }

        // Another guest may be a fine VM; it just cannot report workload progress.
        _logger.LogWarning(
            "VM {VmId} on {VmmId} runs, but its guest never initialised the counter block at 0x{Address:x} within {Timeout}: workload progress will stay unknown",
            vm.VmId,
            VmmId,
            CounterGuest.BlockAddress,
            _options.StartTimeout);
    }

    private async Task<string> ResolveMachineTypeAsync(QemuProcess process, string machineType, CancellationToken cancellationToken)
    {
        var machines = await Execute(process, "query-machines", null, cancellationToken);
        foreach (var machine in machines.EnumerateArray())
        {
            if (machine.TryGetProperty("alias", out var alias) && alias.GetString() == machineType && machine.TryGetProperty("name", out var name))
            {
                return name.GetString() ?? machineType;
            }
        }

        return machineType;
    }

    private async Task StopAsync(QemuVm vm, QemuProcess process, CancellationToken cancellationToken)
    {
        await Execute(process, "stop", null, cancellationToken);
        lock (_gate)
        {
            vm.State = VmState.Paused;
            vm.StateIsCurrent = false;
        }

        // The paused count is final: the image will carry exactly this.
        await RefreshAsync(vm, process, cancellationToken);
    }

    /// <summary>True when the stopped VM has no current image and none is being saved (a pause redelivered mid-save joins it).</summary>
    private bool NeedsSave(QemuVm vm)
    {
        lock (_gate)
        {
            return !vm.StateIsCurrent && (vm.Saving is null || vm.Saving.Sealed.IsCompleted);
        }
    }

    /// <summary>
    /// Starts saving the stopped VM's state to its state file (header, then QEMU's migration stream) and returns once
    /// QEMU streams it; the image is sealed in the background when the migration completes.
    /// </summary>
    private async Task StartSaveAsync(QemuVm vm, QemuProcess process)
    {
        var started = Stopwatch.StartNew();
        QemuStateHeader header;
        lock (_gate)
        {
            header = new QemuStateHeader(vm.VmId, vm.Definition, vm.WorkloadId, vm.WorkloadTarget, vm.Generation);
        }

        // The save outlives the pause command, so only the VMM's disposal (or the migration timeout) cancels it: a save
        // abandoned half-started would leave QEMU migrating to nobody.
        var (image, spooling) = await _migration.StartSaveAsync(process, header, vm.StatePath, NextSocketPath("out"), _disposing.Token);
        lock (_gate)
        {
            vm.Saving = image;
            vm.SaveEnded = FinishSaveAsync(vm, image, spooling, started);
        }
    }

    private async Task FinishSaveAsync(QemuVm vm, GrowingImage image, Task spooling, Stopwatch started)
    {
        await spooling;
        try
        {
            var saved = await image.Sealed;
            lock (_gate)
            {
                if (vm.Saving == image && vm.State == VmState.Paused)
                {
                    vm.Bytes = saved.Bytes;
                    vm.Sha256 = saved.Sha256;
                    vm.StateIsCurrent = true;
                }
            }

            _logger.LogInformation(
                "Saved the state of VM {VmId} on {VmmId}: {Bytes} bytes in {ElapsedMs} ms ({Sha256})",
                vm.VmId,
                VmmId,
                saved.Bytes,
                started.ElapsedMilliseconds,
                saved.Sha256);
        }
        catch (Exception e)
        {
            _logger.LogError("Saving the state of VM {VmId} on {VmmId} failed: {Reason}", vm.VmId, VmmId, e.Message);
        }
    }

    /// <summary>Waits until the VM's image is no longer being written (sealed or failed).</summary>
    private async Task SaveEndedAsync(string vmId)
    {
        Task ended;
        lock (_gate)
        {
            ended = _vms.TryGetValue(vmId, out var vm) ? vm.SaveEnded : Task.CompletedTask;
        }

        await ended;
    }

    private async Task<System.Text.Json.JsonElement> Execute(QemuProcess process, string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await process.Qmp.ExecuteAsync(command, arguments, cancellationToken);
        }
        catch (QmpException e) when (e.ErrorClass is null)
        {
            // The monitor closed: the process is gone or going. Its exit explains more than the socket does.
            await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            throw new QemuVmException(process.VmId, $"VM {process.VmId} on {VmmId}: {e.Message}; {process.ExitDescription}", e);
        }
    }

    /// <summary>Reads the guest's block; updates the VM when the reading is still about the QEMU that runs it.</summary>
    private async Task<CounterReading?> RefreshAsync(QemuVm vm, QemuProcess process, CancellationToken cancellationToken)
    {
        var reading = CounterGuest.ParseBlock(await process.Qmp.HumanMonitorCommandAsync(CounterGuest.ReadBlockCommand, cancellationToken));
        if (reading is not null)
        {
            lock (_gate)
            {
                if (vm.Process == process)
                {
                    vm.Apply(reading);
                }
            }
        }

        return reading;
    }

    private async Task PollAsync()
    {
        using var timer = new PeriodicTimer(_options.PollInterval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_disposing.Token))
            {
                List<(QemuVm Vm, QemuProcess Process)> running;
                lock (_gate)
                {
                    running = [.. _vms.Values.Where(vm => vm.State == VmState.Running && vm.Process is not null).Select(vm => (vm, vm.Process!))];
                }

                foreach (var (vm, process) in running)
                {
                    try
                    {
                        await RefreshAsync(vm, process, _disposing.Token);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // A QEMU that died is reported by its watcher; anything else is worth a line, not the end of polling.
                        _logger.LogDebug(e, "Could not read the counter of VM {VmId} on {VmmId}", vm.VmId, VmmId);
                    }
                }

                EvaluateWorkloads();
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>Raises <see cref="WorkloadCompleted"/> for every workload whose carriers have all reached their target.</summary>
    private void EvaluateWorkloads()
    {
        var completed = new List<string>();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            foreach (var carriers in _vms.Values.Where(vm => vm.WorkloadId is not null).GroupBy(vm => vm.WorkloadId!))
            {
                if (!_workloads.IsRaised(carriers.Key) && carriers.All(vm => vm.WorkloadProgress >= vm.WorkloadTarget))
                {
                    _workloads.TryComplete(carriers.Key, _timeProvider.GetUtcNow());
                    completed.Add(carriers.Key);
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
                // A handler's failure must not stop the poller that raises the next completion.
                _logger.LogError(ex, "A WorkloadCompleted handler failed for workload {WorkloadId} on {VmmId}", workloadId, VmmId);
            }
        }
    }

    private async Task WatchAsync(QemuVm vm, QemuProcess process)
    {
        await process.Exited;
        if (process.IsStopping)
        {
            return;
        }

        lock (_gate)
        {
            if (vm.Process != process)
            {
                return;
            }

            vm.Process = null;
            vm.State = VmState.Stopped;
            vm.Failure = process.ExitDescription;
        }

        _logger.LogError("VM {VmId} on {VmmId} stopped unexpectedly: {Reason}", vm.VmId, VmmId, process.ExitDescription);
        await process.DisposeAsync();
    }

    /// <summary>Stops and forgets the VM of that id, if any, so an adoption can take its place.</summary>
    private async Task<bool> RetireAsync(string vmId)
    {
        QemuProcess? process;
        lock (_gate)
        {
            if (!_vms.Remove(vmId, out var existing))
            {
                return false;
            }

            process = existing.Process;
            existing.Process = null;
            existing.State = VmState.Stopped;
        }

        if (process is not null)
        {
            await process.DisposeAsync();
        }

        return true;
    }

    private void ValidateDefinition(string vmId, VmDefinition definition)
    {
        if (!string.Equals(definition.Kind, Kind, StringComparison.OrdinalIgnoreCase))
        {
            throw new QemuVmException(vmId, $"VM {vmId} on {VmmId} is defined for a '{definition.Kind}' VMM; this VMM runs QEMU (kind '{Kind}').");
        }

        if (definition.BootImage is { } bootImage && !File.Exists(bootImage))
        {
            throw new QemuVmException(
                vmId,
                $"VM {vmId} on {VmmId} cannot start: its boot image {bootImage} does not exist on this host; build it with infra/guest/build.sh or set Agent:Qemu:BootImage.");
        }

        if (definition.BootImage is null)
        {
            throw new QemuVmException(
                vmId,
                $"VM {vmId} on {VmmId} cannot start: it has no boot image and infra/guest/counter.img was not found; build it with infra/guest/build.sh or set Agent:Qemu:BootImage.");
        }
    }

    private (QemuVm Vm, QemuProcess Process) Live(string vmId)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var vm = Find(vmId);
            return (vm, vm.Process ?? throw Stopped(vm, "it must be running or paused"));
        }
    }

    private QemuVmException Stopped(QemuVm vm, string consequence) =>
        new(vm.VmId, $"VM {vm.VmId} on {VmmId} is stopped ({vm.Failure ?? "its QEMU is gone"}); {consequence}.");

    private QemuVm Find(string vmId) =>
        _vms.TryGetValue(vmId, out var vm)
            ? vm
            : throw new KeyNotFoundException(
                $"VMM {VmmId} has no VM {vmId}; it supports {(_vms.Count == 0 ? "none" : string.Join(", ", _vms.Keys))}.");

    private string StatePathFor(string vmId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(vmId);
        if (vmId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || vmId.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"VM id \"{vmId}\" cannot name a state file; use letters, digits, '-', '_' and '.'.", nameof(vmId));
        }

        return Path.Combine(_workDirectory, vmId + ".state");
    }

    /// <summary>What a crash of an earlier run left: saves that never ended, and sockets of QEMUs that are gone.</summary>
    private void ReclaimLeftovers()
    {
        var leftovers = Directory.EnumerateFiles(_workDirectory, "*.partial").Concat(Directory.EnumerateFiles(_socketDirectory)).ToList();
        foreach (var leftover in leftovers)
        {
            File.Delete(leftover);
        }

        if (leftovers.Count > 0)
        {
            _logger.LogInformation("Reclaimed {LeftoverCount} partial saves and stale sockets of an earlier run of {VmmId} in {WorkDirectory}", leftovers.Count, VmmId, _workDirectory);
        }
    }

    // Numbered, not named after the VM: a unix socket path must stay under 108 bytes whatever the VM id.
    private string NextSocketPath(string purpose) =>
        Path.Combine(_socketDirectory, $"{Interlocked.Increment(ref _socketSequence)}.{purpose}");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private sealed class QemuVm(string vmId, string statePath, string originalMacAddress)
    {
        public string VmId { get; } = vmId;

        public string StatePath { get; } = statePath;

        public string OriginalMacAddress { get; } = originalMacAddress;

        public required VmDefinition Definition { get; set; }

        /// <summary>The QEMU running this VM; null once it stopped (or before it started).</summary>
        public QemuProcess? Process { get; set; }

        public VmState State { get; set; } = VmState.Running;

        public string MacAddress { get; set; } = originalMacAddress;

        /// <summary>The MAC the VM takes when it is resumed as a copy; decided when its QEMU starts.</summary>
        public string? CopyMacAddress { get; set; }

        /// <summary>Why the VM is stopped, when it is.</summary>
        public string? Failure { get; set; }

        public long Bytes { get; set; }

        public string? Sha256 { get; set; }

        /// <summary>The image of the latest save: growing while QEMU migrates, then sealed or failed.</summary>
        public GrowingImage? Saving { get; set; }

        /// <summary>Completes when the latest save ended (it never faults; <see cref="Saving"/> holds the outcome).</summary>
        public Task SaveEnded { get; set; } = Task.CompletedTask;

        /// <summary>True while the state file holds the VM as it is now (paused, not run since it was saved or adopted).</summary>
        public bool StateIsCurrent { get; set; }

        public string? WorkloadId { get; set; }

        public long WorkloadTarget { get; set; }

        public long WorkloadProgress { get; set; }

        /// <summary>The workload generation the host last gave the guest; readings of another generation are stale.</summary>
        public byte Generation { get; set; }

        /// <summary>True for a copy adopted from a transfer that has not run here since: discarding it loses nothing.</summary>
        public bool IsUnresumedCopy { get; set; }

        public void Apply(CounterReading reading)
        {
            if (reading.Generation != Generation)
            {
                return;
            }

            WorkloadProgress = reading.Counter;
            WorkloadTarget = reading.Target;
        }
    }
}
