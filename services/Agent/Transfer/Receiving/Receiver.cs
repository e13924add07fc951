using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Vmm;
using Treecast.Contracts;
using Treecast.Hosting.Telemetry;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>
/// One announced operation this agent receives: who may push it and with which token (the parent in the newest tree it
/// knows), the spools its chunks go to, and what became of it (verified and adopted by the VMM, or failed). Every step
/// answers with a <see cref="ReceiveOutcome"/>; the gRPC service alone turns outcomes into status codes. It keeps a
/// journal in its directory (<see cref="ReceiveJournal"/>), so an agent restarted on the same work directory resumes it
/// (<see cref="LoadAsync"/>).
/// </summary>
public sealed partial class Receiver : IAsyncDisposable
{
    /// <summary>Garbled chunks in a row (none stored between them) after which the link is deemed to corrupt everything.</summary>
    public const int MaxGarbledChunksInARow = 5;

    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    private readonly IVmm _vmm;
    private readonly IEventSink _events;
    private readonly TransferSettings _settings;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _streamLock = new(1, 1);
    private readonly SemaphoreSlim _adoptionLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<VmsReceived> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _parentGrace;
    private readonly ReceiveJournal _journal;
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private readonly Lock _recordGate = new();
    private PendingTransferAnnounced _announcement;
    private readonly List<VmCopy> _adoptedCopies = [];
    private Task<ReceiveOutcome>? _adoption;
    private bool _adopted;
    private Admission? _active;
    private DateTimeOffset? _parentLostAt;
    private string? _failureReason;
    private int _garbledInARow;
    private long _lastProgressTicks = long.MinValue;
    private int _lastProgressTenth = -1;
    private long _checkpointedAt;
    private volatile bool _deleted;

    /// <summary>A new receive of <paramref name="announcement"/>, which must name a parent of this VMM; recorded in its directory at once.</summary>
    public Receiver(
        string vmmId,
        PendingTransferAnnounced announcement,
        string directory,
        IVmm vmm,
        IEventSink events,
        TransferSettings settings,
        TimeProvider timeProvider,
        ILogger logger)
        : this(vmmId, announcement, directory, vmm, events, settings, timeProvider, logger, NewSpools(announcement, directory, settings))
    {
        if (announcement.Tree.Find(vmmId)?.ParentVmmId is null)
        {
            throw new ArgumentException($"The tree of operation {announcement.OperationId} names no parent of {vmmId}.", nameof(announcement));
        }

        Record();
    }

    private Receiver(
        string vmmId,
        PendingTransferAnnounced announcement,
        string directory,
        IVmm vmm,
        IEventSink events,
        TransferSettings settings,
        TimeProvider timeProvider,
        ILogger logger,
        IReadOnlyList<ImageSpool> spools)
    {
        VmmId = vmmId;
        _announcement = announcement;
        Directory = directory;
        _vmm = vmm;
        _events = events;
        _settings = settings;
        _timeProvider = timeProvider;
        _logger = logger;
        _journal = new ReceiveJournal(directory);
        _parentGrace = timeProvider.CreateTimer(_ => OnParentGraceElapsed(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _checkpointedAt = timeProvider.GetTimestamp();
        Spools = spools;
        // The result is observed by whoever asks; a failure nobody awaits must not surface as unobserved.
        _received.Task.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    public Guid OperationId => Announcement.OperationId;

    public string VmmId { get; }

    /// <summary>The newest announcement of the operation this agent knows: its tree names the parent; its manifest is the first one's.</summary>
    public PendingTransferAnnounced Announcement
    {
        get
        {
            lock (_gate)
            {
                return _announcement;
            }
        }
    }

    /// <summary>The only VMM allowed to push this operation to this agent; null while the newest tree leaves this agent out.</summary>
    public string? ParentVmmId => Announcement.Tree.Find(VmmId)?.ParentVmmId;

    public string Directory { get; }

    public IReadOnlyList<ImageSpool> Spools { get; }

    /// <summary>The bytes of every image, or 0 while an image announced unsealed has not ended yet (its size is unknown).</summary>
    public long TotalBytes => Spools.All(s => s.Image.IsSealed || s.IsCompleted)
        ? Spools.Sum(s => s.Image.IsSealed ? s.Image.Bytes : s.CommittedLength)
        : 0;

    public long BytesReceived => Spools.Sum(s => s.CommittedLength);

    public bool AllVerified => Spools.All(s => s.IsCompleted);

    public string? FailureReason => Volatile.Read(ref _failureReason);

    /// <summary>Completes when every VM was received, verified and adopted by the VMM; faults when the receive failed.</summary>
    public Task<VmsReceived> Received => _received.Task;

    /// <summary>
    /// Takes the tree of a newer announcement of the operation: its parent becomes the only one admitted (a stream from the
    /// previous parent is cancelled), the spools stay and the new parent resumes from them. False for an announcement
    /// that is not newer (a redelivery), which changes nothing.
    /// </summary>
    public bool Follow(PendingTransferAnnounced newer)
    {
        Admission? superseded = null;
        string? previousParent;
        string? parent;
        lock (_gate)
        {
            if (newer.Tree.Version <= _announcement.Tree.Version)
            {
                return false;
            }

            previousParent = _announcement.Tree.Find(VmmId)?.ParentVmmId;

            // The spools were laid out for the first manifest; a newer one only changes who pushes, with which token.
            _announcement = newer with { Vms = _announcement.Vms, ChunkSizeBytes = _announcement.ChunkSizeBytes };
            parent = _announcement.Tree.Find(VmmId)?.ParentVmmId;
            if (parent != previousParent)
            {
                superseded = _active;
            }
        }

        superseded?.Cancel();
        Record();
        _logger.LogInformation(
            "Operation {OperationId} on {VmmId} follows tree version {TreeVersion}: parent {PreviousParentVmmId} -> {ParentVmmId}, holding {BytesReceived} bytes",
            OperationId, VmmId, newer.Tree.Version, previousParent, parent ?? "none (left the tree)", BytesReceived);
        return true;
    }

    /// <summary>
    /// Admits a stream from <paramref name="senderVmmId"/> when it is the parent in the newest tree presenting the announced
    /// token, and makes it the only stream receiving this operation: a re-opened stream takes over from a stale one (its
    /// parent reconnected), so the stale one is cancelled rather than waited out.
    /// </summary>
    public async Task<Admission> AdmitAsync(string senderVmmId, string receiverVmmId, string token, CancellationToken callCancelled)
    {
        var announcement = Announcement;
        var parent = announcement.Tree.Find(VmmId)?.ParentVmmId;
        if (receiverVmmId != VmmId)
        {
            return Refuse($"the push is addressed to {receiverVmmId}, this agent is {VmmId}");
        }

        if (parent is null)
        {
            return Refuse($"tree version {announcement.Tree.Version} of the operation leaves {VmmId} out");
        }

        if (senderVmmId != parent)
        {
            return Refuse($"the announced tree names {parent} as the parent of {VmmId}");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(announcement.Token)))
        {
            return Refuse("the token does not match the announcement");
        }

        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(callCancelled, _stopping.Token);
        var admission = Admission.Admitted(this, cancellation, Release);
        Admission? stale;
        lock (_gate)
        {
            stale = _active;
            _active = admission;
            _parentLostAt = null;
        }

        stale?.Cancel();
        SetParentGrace(Timeout.InfiniteTimeSpan);
        try
        {
            await _streamLock.WaitAsync(callCancelled);
        }
        catch
        {
            lock (_gate)
            {
                if (_active == admission)
                {
                    _active = null;
                }
            }

            cancellation.Dispose();
            throw;
        }

        if (FailureReason is { } failed)
        {
            admission.Dispose();
            return Admission.Refused(new ReceiveOutcome(ReceiveVerdict.Failed, $"the receive already failed: {failed}"), this);
        }

        return admission;
    }

    /// <summary>Stores a chunk that starts at or before the committed offset and matches its checksum.</summary>
    public async ValueTask<ReceiveOutcome> AppendAsync(uint vmIndex, long offset, ReadOnlyMemory<byte> data, ulong xxhash3, CancellationToken cancellationToken)
    {
        if (vmIndex >= Spools.Count)
        {
            return NotInManifest(vmIndex);
        }

        var spool = Spools[(int)vmIndex];
        var committed = spool.CommittedLength;
        if (offset > committed)
        {
            TreecastMetrics.ChunkFailures.Add(1, new("vmm", VmmId), new("reason", "order"));
            return new ReceiveOutcome(
                ReceiveVerdict.Ahead,
                $"VM {spool.Image.VmId}: chunk at offset {offset}, {VmmId} holds {committed} bytes; resume from there");
        }

        if (offset + data.Length <= committed || spool.IsCompleted)
        {
            return ReceiveOutcome.Done; // A resent chunk this agent already holds.
        }

        if (XxHash3.HashToUInt64(data.Span) != xxhash3)
        {
            TreecastMetrics.ChunkFailures.Add(1, new("vmm", VmmId), new("reason", "checksum"));
            return await GarbledAsync(spool, offset, data.Length);
        }

        var fresh = data[(int)(committed - offset)..];
        try
        {
            await spool.AppendAsync(fresh, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            return await LoseAsync(e.Message);
        }
        catch (InvalidOperationException) when (FailureReason is { } failed)
        {
            return new ReceiveOutcome(ReceiveVerdict.Failed, $"the receive already failed: {failed}");
        }

        Volatile.Write(ref _garbledInARow, 0);
        TreecastMetrics.BytesReceived.Add(fresh.Length, new KeyValuePair<string, object?>("vmm", VmmId));
        ReportProgress();
        CheckpointIfDue();
        return ReceiveOutcome.Done;
    }

    /// <summary>
    /// Checks a VM's whole image against the manifest and the sender's end marker; once every VM is verified, the VMM
    /// adopts the copies (once, whatever the number of streams that complete them) and the receive is reported. A stream
    /// that re-verifies a receive already adopted (a transfer started again) reports it again at its last VM.
    /// </summary>
    public async ValueTask<ReceiveOutcome> CompleteVmAsync(uint vmIndex, long bytes, string sha256, CancellationToken cancellationToken)
    {
        if (vmIndex >= Spools.Count)
        {
            return NotInManifest(vmIndex);
        }

        var spool = Spools[(int)vmIndex];
        var alreadyVerified = AllVerified;
        var spoolVerified = spool.IsCompleted;
        var mismatch = await spool.CompleteAsync(bytes, sha256, cancellationToken);
        if (mismatch is not null)
        {
            TreecastMetrics.VerificationFailures.Add(1, new KeyValuePair<string, object?>("vmm", VmmId));
            return await LoseAsync(mismatch);
        }

        if (!spoolVerified)
        {
            Record();
        }

        if (AllVerified)
        {
            var adopted = await AdoptOnceAsync().WaitAsync(cancellationToken);
            if (!adopted.IsDone)
            {
                return adopted;
            }

            if (alreadyVerified && vmIndex == Spools.Count - 1 && Received.IsCompletedSuccessfully)
            {
                _logger.LogInformation("Operation {OperationId} re-verified on {VmmId}: reporting its copies again", OperationId, VmmId);
                await _events.PublishQuietlyAsync(Received.Result, _logger, VmmId, _stopping.Token);
            }
        }

        return ReceiveOutcome.Done with { Verified = spool.Image with { Bytes = spool.CommittedLength, Sha256 = spool.Sha256! } };
    }

    /// <summary>
    /// What a forwarder to one of this agent's children reads: the spools as they grow, or once the VMM adopted the copies
    /// (moving the spool files), the VMM's images. A spool opened before the adoption keeps reading the moved file.
    /// </summary>
    public async Task<IReadOnlyList<ImageSource>> OpenSourcesAsync(CancellationToken cancellationToken)
    {
        await _adoptionLock.WaitAsync(cancellationToken);
        try
        {
            return _adopted
                ? Spools.Select(s => (ImageSource)VmmImageSource.Of(_vmm, s.Image.VmId)).ToList()
                : Spools.Select(s => (ImageSource)new SpoolImageSource(s)).ToList();
        }
        finally
        {
            _adoptionLock.Release();
        }
    }

    /// <summary>Fails the receive for good: its spools fail, forwarders reading them stop, and the failure is published once.</summary>
    public async Task FailAsync(string reason)
    {
        if (Interlocked.CompareExchange(ref _failureReason, reason, null) is not null)
        {
            return;
        }

        var failure = new InvalidDataException(reason);
        foreach (var spool in Spools)
        {
            spool.Fail(failure);
        }

        _received.TrySetException(failure);
        _logger.LogError("Receive of operation {OperationId} on {VmmId} failed: {Reason}", OperationId, VmmId, reason);
        await _events.PublishQuietlyAsync(new OperationStepFailed(OperationId, VmmId, OperationStep.Receive, reason), _logger, VmmId, CancellationToken.None);
    }

    /// <summary>
    /// Ends this receive for good (the operation was cancelled or ended): stops its stream, deletes its spools and state,
    /// and with <paramref name="discardCopies"/> has the VMM discard the copies it adopted and never resumed. Returns the
    /// VMs discarded.
    /// </summary>
    public async Task<IReadOnlyList<string>> EndAsync(bool discardCopies, CancellationToken cancellationToken)
    {
        if (Stop())
        {
            CloseSpools();
        }

        var discarded = new List<string>();
        await _adoptionLock.WaitAsync(cancellationToken);
        try
        {
            foreach (var copy in discardCopies ? _adoptedCopies : [])
            {
                if (await _vmm.DiscardAsync(copy.VmId, copy.Sha256, cancellationToken))
                {
                    discarded.Add(copy.VmId);
                }
            }
        }
        finally
        {
            _adoptionLock.Release();
        }

        await _checkpointLock.WaitAsync(cancellationToken);
        try
        {
            _deleted = true;
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        finally
        {
            _checkpointLock.Release();
        }

        _logger.LogInformation(
            "Ended the receive of operation {OperationId} on {VmmId}: {BytesReceived} bytes and its record deleted, {DiscardedCount} copies discarded",
            OperationId, VmmId, BytesReceived, discarded.Count);
        return discarded;
    }

    /// <summary>
    /// Stops the receive (its stream ends, its spools close) and records how far it got: its files stay, for an agent
    /// restarted on the same work directory to resume from.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!Stop())
        {
            return;
        }

        try
        {
            await CheckpointAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
        {
            _logger.LogWarning("Could not record how far the receive of operation {OperationId} on {VmmId} got: {Reason}", OperationId, VmmId, e.Message);
        }

        CloseSpools();
    }

    private bool Stop()
    {
        if (_stopping.IsCancellationRequested)
        {
            return false;
        }

        _stopping.Cancel();
        _parentGrace.Dispose();
        Admission? active;
        lock (_gate)
        {
            active = _active;
        }

        active?.Cancel();
        _received.TrySetCanceled();
        return true;
    }

    private void CloseSpools()
    {
        foreach (var spool in Spools)
        {
            spool.Dispose();
        }
    }

    private Task<ReceiveOutcome> AdoptOnceAsync()
    {
        lock (_gate)
        {
            return _adoption ??= AdoptAsync();
        }
    }

    /// <summary>Every image verified: the VMM adopts them and the operation is reported received.</summary>
    private async Task<ReceiveOutcome> AdoptAsync()
    {
        await _adoptionLock.WaitAsync(_stopping.Token);
        try
        {
            foreach (var spool in Spools.Where(s => !_adoptedCopies.Any(c => c.VmId == s.Image.VmId)))
            {
                await _vmm.AdoptAsync(spool.Image.VmId, spool.Path, spool.Sha256!, _stopping.Token);
                lock (_gate)
                {
                    _adoptedCopies.Add(new VmCopy(spool.Image.VmId, spool.Sha256!, VmState.Paused));
                }

                Record();
            }

            _adopted = true;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return new ReceiveOutcome(ReceiveVerdict.Failed, $"{VmmId} stopped while its VMM adopted the copies");
        }
        catch (Exception e)
        {
            var reason = $"VMM {VmmId} could not adopt the received images: {e.Message}";
            await FailAsync(reason);
            return new ReceiveOutcome(ReceiveVerdict.Failed, reason);
        }
        finally
        {
            _adoptionLock.Release();
        }

        List<VmCopy> copies;
        lock (_gate)
        {
            copies = [.. _adoptedCopies];
        }

        var received = new VmsReceived(OperationId, VmmId, copies);
        _logger.LogInformation(
            "Received operation {OperationId} on {VmmId}: {VmCount} VMs, {TotalBytes} bytes verified and adopted",
            OperationId, VmmId, copies.Count, TotalBytes);
        await _events.PublishProgressAsync(new TransferProgressed(OperationId, VmmId, TotalBytes, TotalBytes), _stopping.Token);
        await _events.PublishQuietlyAsync(received, _logger, VmmId, _stopping.Token);
        _received.TrySetResult(received);
        return ReceiveOutcome.Done;
    }

    /// <summary>
    /// A chunk garbled on its way: refused without failing the receive, so the sender resends it; a link that garbles
    /// chunk after chunk fails the receive.
    /// </summary>
    private async Task<ReceiveOutcome> GarbledAsync(ImageSpool spool, long offset, int length)
    {
        var inARow = Interlocked.Increment(ref _garbledInARow);
        var what = $"VM {spool.Image.VmId}: the chunk at offset {offset} ({length} bytes) does not match its XxHash3";
        if (inARow >= MaxGarbledChunksInARow)
        {
            return await LoseAsync($"{what}, the {inARow}th garbled chunk in a row");
        }

        _logger.LogWarning("Refused a garbled chunk of operation {OperationId} on {VmmId}: {Reason}", OperationId, VmmId, what);
        return new ReceiveOutcome(ReceiveVerdict.Garbled, $"{what}; resend from offset {spool.CommittedLength}");
    }

    /// <summary>Coarse progress: at most every 500 ms, and whenever another tenth of the bytes has arrived.</summary>
    private void ReportProgress()
    {
        var received = BytesReceived;
        var total = TotalBytes;
        var now = _timeProvider.GetUtcNow().UtcTicks;
        var tenth = total == 0 ? 10 : (int)(received * 10 / total);
        lock (_gate)
        {
            var due = _lastProgressTicks == long.MinValue
                || now - _lastProgressTicks >= ProgressInterval.Ticks
                || tenth > _lastProgressTenth;
            if (!due)
            {
                return;
            }

            _lastProgressTicks = now;
            _lastProgressTenth = tenth;
        }

        _ = _events.PublishProgressAsync(new TransferProgressed(OperationId, VmmId, received, total), _stopping.Token);
    }

    private async Task<ReceiveOutcome> LoseAsync(string reason)
    {
        await FailAsync(reason);
        return new ReceiveOutcome(ReceiveVerdict.Lost, reason);
    }

    private Admission Refuse(string reason)
    {
        TreecastMetrics.ChunkFailures.Add(1, new("vmm", VmmId), new("reason", "sender"));
        return Admission.Refused(new ReceiveOutcome(ReceiveVerdict.Refused, reason), this);
    }

    private ReceiveOutcome NotInManifest(uint vmIndex) =>
        new(ReceiveVerdict.Malformed, $"VM index {vmIndex} is not in the manifest of {Spools.Count} VMs");
}
