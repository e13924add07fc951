using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// One VM of a <see cref="QemuVmm"/>: the QEMU process that runs it (started and watched in <c>QemuVm.Process.cs</c>), its
/// MAC addresses, the workload its guest counts, and its state file (saved and loaded in <c>QemuVm.State.cs</c>). Its own
/// lock guards its state and is never held across I/O or an await.
/// </summary>
internal sealed partial class QemuVm : ITableVm
{
    private readonly Lock _gate = new();
    private readonly QemuRuntime _runtime;
    private VmDefinition _definition;

    // The QEMU running this VM; null once it stopped (or before it started).
    private QemuProcess? _process;
    private VmState _state = VmState.Running;
    private string _macAddress;

    // The MAC the VM takes when it is resumed as a copy; decided when its QEMU starts.
    private string? _copyMacAddress;

    // Why the VM is stopped, when it is.
    private string? _failure;
    private string? _workloadId;
    private long _workloadTarget;
    private long _workloadProgress;

    // The workload generation the host last gave the guest; readings of another generation are stale.
    private byte _generation;

    // True for a copy adopted from a transfer that has not run here since: discarding it loses nothing.
    private bool _isUnresumedCopy;

    /// <summary>A VM of <paramref name="definition"/>, running once <see cref="LaunchAsync"/> started its QEMU and <see cref="Run"/> took it.</summary>
    public QemuVm(QemuRuntime runtime, string vmId, VmDefinition definition)
    {
        _runtime = runtime;
        VmId = vmId;
        StatePath = runtime.Files.StatePathFor(vmId);
        OriginalMacAddress = MacAddresses.Original(vmId);
        _macAddress = OriginalMacAddress;
        _definition = definition;
    }

    public string VmId { get; }

    public string OriginalMacAddress { get; }

    public VmDefinition Definition
    {
        get
        {
            lock (_gate)
            {
                return _definition;
            }
        }
    }

    /// <summary>The QEMU of the VM while its guest runs; null while it is paused or stopped.</summary>
    public QemuProcess? RunningProcess
    {
        get
        {
            lock (_gate)
            {
                return _state == VmState.Running ? _process : null;
            }
        }
    }

    private string VmmId => _runtime.VmmId;

    public VmInfo InfoAt(long now)
    {
        lock (_gate)
        {
            // A sealed save is current at once, as SealedImageAsync's caller already sees it: its digest must not wait for
            // FinishSaveAsync's continuation (a heartbeat or a test reading the VM right after the seal saw none).
            TakeSealedSaveLocked();
            return new VmInfo(VmId, _state, _bytes, _sha256, _macAddress, _workloadProgress, _workloadTarget);
        }
    }

    public CarriedWorkload? WorkloadAt(long now)
    {
        lock (_gate)
        {
            return _workloadId is { } workloadId ? new CarriedWorkload(workloadId, _workloadProgress, _workloadTarget) : null;
        }
    }

    /// <summary>The VM's QEMU and whether its guest runs; throws, naming the VM and why it stopped, when it has none.</summary>
    public (QemuProcess Process, bool Running) Live(string consequence)
    {
        lock (_gate)
        {
            return (_process ?? throw Stopped(consequence), _state == VmState.Running);
        }
    }

    /// <summary>True when the VM's QEMU runs with the image of that digest.</summary>
    public bool Holds(string sha256)
    {
        lock (_gate)
        {
            return _process is not null && string.Equals(_sha256, sha256, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>True for a copy adopted with that digest that never ran here.</summary>
    public bool IsUnresumedCopyOf(string sha256)
    {
        lock (_gate)
        {
            return _isUnresumedCopy && string.Equals(_sha256, sha256, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>Waits until the guest initialised its counter; a guest that never does runs on, without workload progress.</summary>
    private async Task WaitForGuestAsync(QemuProcess process, CancellationToken cancellationToken)
    {
        var timeProvider = _runtime.TimeProvider;
        var started = timeProvider.GetTimestamp();
        while (timeProvider.GetElapsedTime(started) < _runtime.Options.StartTimeout)
        {
            if (await RefreshAsync(process, cancellationToken) is not null)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), timeProvider, cancellationToken);
        }

        // Another guest may be a fine VM; it just cannot report workload progress.
        _runtime.Logger.LogWarning(
            "VM {VmId} on {VmmId} runs, but its guest never initialised the counter block at 0x{Address:x} within {Timeout}: workload progress will stay unknown",
            VmId,
            VmmId,
            CounterWorkload.BlockAddress,
            _runtime.Options.StartTimeout);
    }

    /// <summary>Reads the guest's counter; the VM takes it when the reading is still about the QEMU that runs it.</summary>
    public async Task<CounterReading?> RefreshAsync(QemuProcess process, CancellationToken cancellationToken)
    {
        var reading = await CounterWorkload.ReadAsync(process, cancellationToken);
        if (reading is not null)
        {
            lock (_gate)
            {
                if (_process == process)
                {
                    Apply(reading);
                }
            }
        }

        return reading;
    }

    /// <summary>While the guest runs, reads its counter (see <see cref="RefreshAsync"/>).</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        if (RunningProcess is not { } process)
        {
            return;
        }

        try
        {
            await RefreshAsync(process, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A QEMU that died is reported by its watcher; anything else is worth a line, not the end of polling.
            _runtime.Logger.LogDebug(e, "Could not read the counter of VM {VmId} on {VmmId}", VmId, VmmId);
        }
    }

    /// <summary>Stops the guest; the counter it reports then is the one its image carries.</summary>
    public async Task PauseAsync(QemuProcess process, CancellationToken cancellationToken)
    {
        await process.ExecuteAsync("stop", null, cancellationToken);
        lock (_gate)
        {
            _state = VmState.Paused;
            _stateIsCurrent = false;
        }

        // The paused count is final: the image will carry exactly this.
        await RefreshAsync(process, cancellationToken);
    }

    /// <summary>Lets the guest run again; a copy resumed with a new identity takes the MAC decided when its QEMU started.</summary>
    public async Task<VmCopy> ResumeAsync(bool newIdentity, CancellationToken cancellationToken)
    {
        var (process, running) = Live("it must be running or paused");
        if (!running)
        {
            await process.ExecuteAsync("cont", null, cancellationToken);
        }

        lock (_gate)
        {
            if (newIdentity)
            {
                _macAddress = _copyMacAddress ?? MacAddresses.NewForCopy(OriginalMacAddress, _macAddress);
                _copyMacAddress = null;
            }

            _state = VmState.Running;
            _stateIsCurrent = false;
            _saving = null;
            _isUnresumedCopy = false;

            // A VM that was never paused has no image, hence no digest.
            return new VmCopy(VmId, _sha256 ?? string.Empty, VmState.Running, _macAddress);
        }
    }

    /// <summary>Starts the workload in the guest as a new generation, so that readings of the previous one are ignored.</summary>
    public async Task StartWorkloadAsync(QemuProcess process, string workloadId, uint target, CancellationToken cancellationToken)
    {
        byte generation;
        lock (_gate)
        {
            generation = CounterWorkload.NextGeneration(_generation);
        }

        await CounterWorkload.StartAsync(process, workloadId, target, generation, cancellationToken);
        lock (_gate)
        {
            _generation = generation;
            _workloadId = workloadId;
            _workloadTarget = target;
            _workloadProgress = 0;
        }
    }

    private void Apply(CounterReading reading)
    {
        if (reading.Generation != _generation)
        {
            return;
        }

        _workloadProgress = reading.Counter;
        _workloadTarget = reading.Target;
    }

    private QemuVmException Stopped(string consequence) =>
        new(VmId, $"VM {VmId} on {VmmId} is stopped ({_failure ?? "its QEMU is gone"}); {consequence}.");
}
