using System.Security.Cryptography;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm;

/// <summary>
/// One VM of a <see cref="SimulatedVmm"/>: an image file, a MAC address, and a workload that advances with the VMM's clock
/// while the VM runs. Its own lock guards its state and is never held across I/O.
/// </summary>
internal sealed class SimulatedVm : ITableVm
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _timeProvider;
    private VmState _state;
    private string _macAddress;
    private string? _sha256;

    // The header as the file holds it now.
    private SimulatedImageHeader _writtenHeader;
    private string? _workloadId;

    // Work done up to _runningSince (or in total, while paused).
    private long _workloadProgress;
    private long _workloadTarget;

    // Timestamp from the VMM's clock when the VM last started running; null while paused.
    private long? _runningSince;

    // True for a copy adopted from a transfer that has not run here since: discarding it loses nothing.
    private bool _isUnresumedCopy;

    private SimulatedVm(string vmId, string imagePath, long bytes, TimeProvider timeProvider, SimulatedImageHeader writtenHeader)
    {
        VmId = vmId;
        ImagePath = imagePath;
        Bytes = bytes;
        OriginalMacAddress = MacAddresses.Original(vmId);
        _macAddress = OriginalMacAddress;
        _timeProvider = timeProvider;
        _writtenHeader = writtenHeader;
    }

    public string VmId { get; }

    public string ImagePath { get; }

    public long Bytes { get; }

    public string OriginalMacAddress { get; }

    public VmState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Digest of the image when it was last paused or adopted; null while it never was.</summary>
    public string? Sha256
    {
        get
        {
            lock (_gate)
            {
                return _sha256;
            }
        }
    }

    /// <summary>A new VM whose fresh image the VMM wrote at <paramref name="imagePath"/>, running since <paramref name="now"/>.</summary>
    public static SimulatedVm Running(string vmId, string imagePath, long bytes, TimeProvider timeProvider, long now) =>
        new(vmId, imagePath, bytes, timeProvider, new SimulatedImageHeader(vmId, null, 0, 0))
        {
            _state = VmState.Running,
            _runningSince = now,
        };

    /// <summary>A paused copy of a received image whose header says where its workload stands.</summary>
    public static SimulatedVm Adopted(string imagePath, long bytes, string sha256, SimulatedImageHeader header, TimeProvider timeProvider) =>
        new(header.VmId, imagePath, bytes, timeProvider, header)
        {
            _state = VmState.Paused,
            _sha256 = sha256.ToLowerInvariant(),
            _workloadId = header.WorkloadId,
            _workloadProgress = header.WorkloadProgress,
            _workloadTarget = header.WorkloadTarget,
            _isUnresumedCopy = true,
        };

    public VmInfo InfoAt(long now)
    {
        lock (_gate)
        {
            return new VmInfo(VmId, _state, Bytes, _sha256, _macAddress, ProgressAt(now), _workloadTarget);
        }
    }

    public CarriedWorkload? WorkloadAt(long now)
    {
        lock (_gate)
        {
            return _workloadId is { } workloadId ? new CarriedWorkload(workloadId, ProgressAt(now), _workloadTarget) : null;
        }
    }

    /// <summary>How long the VM, running, still needs to reach its target; null while it is paused.</summary>
    public TimeSpan? RemainingAt(long now)
    {
        lock (_gate)
        {
            return _runningSince is { } since
                ? TimeSpan.FromTicks((_workloadTarget - _workloadProgress) * SimulatedVmm.WorkTick.Ticks) - _timeProvider.GetElapsedTime(since, now)
                : null;
        }
    }

    /// <summary>Pauses the VM at <paramref name="now"/> (true when it was running) and returns the header its image is to carry.</summary>
    public (bool PausedNow, SimulatedImageHeader Header) Pause(long now)
    {
        lock (_gate)
        {
            var pausedNow = _state == VmState.Running;
            if (pausedNow)
            {
                _workloadProgress = ProgressAt(now);
                _runningSince = null;
                _state = VmState.Paused;
            }

            return (pausedNow, new SimulatedImageHeader(VmId, _workloadId, _workloadProgress, _workloadTarget));
        }
    }

    /// <summary>Runs the VM from <paramref name="now"/>; a copy (<paramref name="newIdentity"/>) first gets a MAC of its own.</summary>
    public (string MacAddress, string? Sha256) Resume(bool newIdentity, long now)
    {
        lock (_gate)
        {
            if (newIdentity)
            {
                _macAddress = MacAddresses.NewForCopy(OriginalMacAddress, _macAddress);
            }

            if (_state != VmState.Running)
            {
                _state = VmState.Running;
                _runningSince = now;
            }

            _isUnresumedCopy = false;
            return (_macAddress, _sha256);
        }
    }

    public void StartWorkload(string workloadId, long target, long now)
    {
        lock (_gate)
        {
            _workloadId = workloadId;
            _workloadTarget = target;
            _workloadProgress = 0;
            if (_state == VmState.Running)
            {
                _runningSince = now;
            }
        }
    }

    /// <summary>True when the VM holds the image of that digest.</summary>
    public bool Holds(string sha256) => string.Equals(Sha256, sha256, StringComparison.OrdinalIgnoreCase);

    /// <summary>True for a copy adopted with that digest that never ran here.</summary>
    public bool IsUnresumedCopyOf(string sha256)
    {
        lock (_gate)
        {
            return _isUnresumedCopy && string.Equals(_sha256, sha256, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>Writes <paramref name="header"/> into the image and returns the image's digest; an unchanged header changes nothing.</summary>
    public async Task<string> SaveImageAsync(SimulatedImageHeader header, CancellationToken cancellationToken)
    {
        string? known;
        lock (_gate)
        {
            known = _writtenHeader == header ? _sha256 : null;
        }

        // Only the header changes in a simulated VM; an unchanged header means an unchanged image.
        if (known is not null)
        {
            return known;
        }

        await SimulatedImage.WriteHeaderAsync(ImagePath, header, cancellationToken);
        var sha256 = await HashAsync(ImagePath, cancellationToken);
        lock (_gate)
        {
            _writtenHeader = header;
            _sha256 = sha256;
        }

        return sha256;
    }

    public static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(
            path, FileMode.Open, FileAccess.Read, FileShare.Read, SimulatedImage.BlockBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }

    private long ProgressAt(long now)
    {
        if (_runningSince is not { } since || _workloadProgress >= _workloadTarget)
        {
            return _workloadProgress;
        }

        var done = _workloadProgress + (_timeProvider.GetElapsedTime(since, now).Ticks / SimulatedVmm.WorkTick.Ticks);
        return Math.Min(done, _workloadTarget);
    }
}
