using System.Diagnostics;
using System.Security.Cryptography;
using Treecast.Agent.Images;
using Treecast.Contracts;

namespace Treecast.Agent.Vmm.Qemu;

/// <summary>
/// A VM's state file: saved from its stopped QEMU (a header, then QEMU's migration stream, readable while it is written),
/// and loaded into a new QEMU to make a paused copy.
/// </summary>
internal sealed partial class QemuVm
{
    private long _bytes;
    private string? _sha256;

    // The image of the latest save: growing while QEMU migrates, then sealed or failed.
    private SavingImage? _saving;

    // Completes when the latest save ended (it never faults; _saving holds the outcome).
    private Task _saveEnded = Task.CompletedTask;

    // True while the state file holds the VM as it is now (paused, not run since it was saved or adopted).
    private bool _stateIsCurrent;

    public string StatePath { get; }

    /// <summary>Completes when the latest save ended, well or not.</summary>
    public Task SaveEnded
    {
        get
        {
            lock (_gate)
            {
                return _saveEnded;
            }
        }
    }

    /// <summary>True when the stopped VM has no current image and none is being saved (a pause redelivered mid-save joins it).</summary>
    public bool NeedsSave
    {
        get
        {
            lock (_gate)
            {
                TakeSealedSaveLocked();
                return !_stateIsCurrent && (_saving is null || _saving.Sealed.IsCompleted);
            }
        }
    }

    /// <summary>The paused VM's image: sealed when its state file is current, unsealed while it is being saved.</summary>
    public VmImage PausedImage
    {
        get
        {
            lock (_gate)
            {
                TakeSealedSaveLocked();
                return _stateIsCurrent ? new VmImage(VmId, _bytes, _sha256!, _definition) : VmImage.Unsealed(VmId, _definition);
            }
        }
    }

    /// <summary>
    /// A paused copy of VM <paramref name="vmId"/> from the image at <paramref name="imagePath"/>: checks that its header
    /// names this VM and a definition this VMM runs, lets <paramref name="makeRoom"/> retire the VM it replaces, moves the
    /// file to the VM's state path, starts a QEMU for the header's definition in incoming mode and paused, feeds it the
    /// stream, and checks that what QEMU read has <paramref name="sha256"/>. The image may still be growing as a pipe: it
    /// is read once, front to back.
    /// </summary>
    public static async Task<QemuVm> LoadAsync(
        QemuRuntime runtime, string vmId, string imagePath, string sha256, Func<Task> makeRoom, CancellationToken cancellationToken)
    {
        var target = runtime.Files.StatePathFor(vmId);
        await using var image = new FileStream(
            imagePath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var (header, headerBytes) = await QemuStateHeader.ReadAsync(image, imagePath, cancellationToken);
        if (header.VmId != vmId)
        {
            throw new InvalidDataException(
                $"{imagePath} holds the image of VM {header.VmId}, not of {vmId}; the transfer wrote the wrong file for this VM.");
        }

        runtime.Validate(vmId, header.Definition);
        await makeRoom();

        // Renaming an open file keeps the handle reading it, so the stream can be fed from its final place.
        if (!string.Equals(Path.GetFullPath(imagePath), target, StringComparison.Ordinal))
        {
            File.Move(imagePath, target, overwrite: true);
        }

        var process = await runtime.StartProcessAsync(vmId, header.Definition, incoming: true, cancellationToken);
        long streamBytes;
        CounterReading? reading;
        try
        {
            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            digest.AppendData(headerBytes);
            streamBytes = await runtime.Migration.LoadAsync(process, image, digest, runtime.Files.NextSocketPath("in"), cancellationToken);
            var loaded = Convert.ToHexStringLower(digest.GetHashAndReset());

            // The transfer verified the file; this guards the bytes QEMU actually read, which may have come from a pipe.
            if (!string.Equals(loaded, sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new QemuVmException(
                    vmId, $"VM {vmId} on {runtime.VmmId}: the state QEMU loaded has SHA-256 {loaded}, not the announced {sha256.ToLowerInvariant()}; the image changed after it was verified.");
            }

            reading = await CounterWorkload.ReadAsync(process, cancellationToken);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        var vm = new QemuVm(runtime, vmId, header.Definition)
        {
            _process = process,
            _state = VmState.Paused,
            _bytes = headerBytes.Length + streamBytes,
            _sha256 = sha256.ToLowerInvariant(),
            _stateIsCurrent = true,
            _workloadId = header.WorkloadId,
            _workloadTarget = header.WorkloadTarget,
            _generation = header.WorkloadGeneration,
            _isUnresumedCopy = true,
        };

        // Decided now, because a NIC's MAC is fixed when its QEMU starts: a copy resumed with a new identity takes it.
        vm._copyMacAddress = MacAddresses.NewForCopy(vm.OriginalMacAddress);
        if (reading is not null)
        {
            vm.Apply(reading);
        }

        _ = vm.WatchAsync(process);
        return vm;
    }

    /// <summary>
    /// Starts saving the stopped VM's state to its state file (header, then QEMU's migration stream) and returns once
    /// QEMU streams it; the image is sealed in the background when the migration completes.
    /// </summary>
    public async Task StartSaveAsync(QemuProcess process)
    {
        var started = Stopwatch.StartNew();
        QemuStateHeader header;
        lock (_gate)
        {
            header = new QemuStateHeader(VmId, _definition, _workloadId, _workloadTarget, _generation);
        }

        // The save outlives the pause command, so only the VMM's disposal (or the migration timeout) cancels it: a save
        // abandoned half-started would leave QEMU migrating to nobody.
        var (image, spooling) = await _runtime.Migration.StartSaveAsync(process, header, StatePath, _runtime.Files.NextSocketPath("out"), _runtime.Stopping);
        lock (_gate)
        {
            _saving = image;
            _saveEnded = FinishSaveAsync(image, spooling, started);
        }
    }

    /// <summary>
    /// Opens the paused VM's image for reading from the start: its state file, or, while it is being saved, the growing
    /// save (whose readers fail with its reason if it fails).
    /// </summary>
    public Stream OpenImage()
    {
        lock (_gate)
        {
            if (_state == VmState.Paused && !_stateIsCurrent && _saving is { } saving)
            {
                return saving.OpenRead();
            }

            if (_state != VmState.Paused || !_stateIsCurrent)
            {
                throw new InvalidOperationException(
                    $"VM {VmId} on {VmmId} is {_state}; its image can only be read while it is paused (pause it first).");
            }
        }

        return ImageFiles.OpenPaused(StatePath);
    }

    /// <summary>The paused VM's image once completely saved; faults with the save's reason when it failed.</summary>
    public async Task<VmImage> SealedImageAsync(CancellationToken cancellationToken)
    {
        SavingImage? saving;
        lock (_gate)
        {
            if (_stateIsCurrent && _sha256 is { } sha256)
            {
                return new VmImage(VmId, _bytes, sha256, _definition);
            }

            saving = _state == VmState.Paused ? _saving : null;
            if (saving is null)
            {
                throw new InvalidOperationException($"VM {VmId} on {VmmId} is {_state} and has no image being saved (pause it first).");
            }
        }

        return await saving.Sealed.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// A save whose image is sealed makes the state file current at once, not when <see cref="FinishSaveAsync"/>'s
    /// continuation gets a thread: on a busy host a pause in that gap saw "no current image", migrated again, and QEMU
    /// refused ("Can't migrate the vm that was paused due to previous migration").
    /// </summary>
    private void TakeSealedSaveLocked()
    {
        if (!_stateIsCurrent && _state == VmState.Paused && _saving is { Sealed.IsCompletedSuccessfully: true } saving)
        {
            var saved = saving.Sealed.Result;
            _bytes = saved.Bytes;
            _sha256 = saved.Sha256;
            _stateIsCurrent = true;
        }
    }

    private async Task FinishSaveAsync(SavingImage image, Task spooling, Stopwatch started)
    {
        await spooling;
        try
        {
            var saved = await image.Sealed;
            lock (_gate)
            {
                if (_saving == image && _state == VmState.Paused)
                {
                    _bytes = saved.Bytes;
                    _sha256 = saved.Sha256;
                    _stateIsCurrent = true;
                }
            }

            _runtime.Logger.LogInformation(
                "Saved the state of VM {VmId} on {VmmId}: {Bytes} bytes in {ElapsedMs} ms ({Sha256})",
                VmId,
                VmmId,
                saved.Bytes,
                started.ElapsedMilliseconds,
                saved.Sha256);
        }
        catch (Exception e)
        {
            _runtime.Logger.LogError("Saving the state of VM {VmId} on {VmmId} failed: {Reason}", VmId, VmmId, e.Message);
        }
    }
}
