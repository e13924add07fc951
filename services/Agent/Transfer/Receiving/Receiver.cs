using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Transfer.Striping;
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
/// <remarks>
/// A striped operation (<see cref="StripeLayout"/>) arrives as one stream per stripe, each from this agent's parent in
/// that stripe's tree: each stripe is a lane of its own (its admitted stream, its spool per VM, its parent's grace
/// period), so spools, resume and relaying stay append-only per stripe. Once every stripe of every VM is verified, each
/// VM's image is assembled from its stripes and checked against the manifest's SHA-256 before the VMM adopts it.
/// </remarks>
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
    private readonly SemaphoreSlim _adoptionLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<VmsReceived> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lane[] _lanes;
    private readonly ReceiveJournal _journal;
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private readonly Lock _recordGate = new();
    private PendingTransferAnnounced _announcement;
    private readonly List<VmCopy> _adoptedCopies = [];
    private Task<ReceiveOutcome>? _adoption;
    private bool _adopted;
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
        : this(vmmId, announcement, directory, vmm, events, settings, timeProvider, logger, StripeLayout.Of(announcement), NewSpools(announcement, directory, settings))
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
        StripeLayout layout,
        IReadOnlyList<IReadOnlyList<ImageSpool>> laneSpools)
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
        Layout = layout;
        _lanes = laneSpools.Select((spools, stripe) => new Lane(stripe, spools)).ToArray();
        foreach (var lane in _lanes)
        {
            lane.ParentGrace = timeProvider.CreateTimer(_ => OnParentGraceElapsed(lane), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _checkpointedAt = timeProvider.GetTimestamp();
        Spools = laneSpools.SelectMany(s => s).ToList();
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

    /// <summary>The only VMM allowed to push this operation (stripe 0 of it) to this agent; null while the newest tree leaves this agent out.</summary>
    public string? ParentVmmId => ParentIn(0);

    /// <summary>How the images are striped: fixed by the first announcement, as the spools are.</summary>
    public StripeLayout Layout { get; }

    public string Directory { get; }

    /// <summary>Every spool: per stripe (in stripe order), one per VM of the manifest; one stripe holds the images themselves.</summary>
    public IReadOnlyList<ImageSpool> Spools { get; }

    /// <summary>The bytes of every image, or 0 while an image announced unsealed has not ended yet (its size is unknown).</summary>
    public long TotalBytes => Layout.IsStriped
        ? Announcement.Vms.Sum(v => v.Bytes)
        : Spools.All(s => s.Image.IsSealed || s.IsCompleted)
            ? Spools.Sum(s => s.Image.IsSealed ? s.Image.Bytes : s.CommittedLength)
            : 0;

    public long BytesReceived => Spools.Sum(s => s.CommittedLength);

    public bool AllVerified => Spools.All(s => s.IsCompleted);

    public string? FailureReason => Volatile.Read(ref _failureReason);

    /// <summary>Completes when every VM was received, verified and adopted by the VMM; faults when the receive failed.</summary>
    public Task<VmsReceived> Received => _received.Task;

    /// <summary>The VMM allowed to push <paramref name="stripe"/> of this operation to this agent; null while the newest tree leaves this agent out.</summary>
    public string? ParentIn(int stripe) => StripeLayout.ParentOf(Announcement.Tree, VmmId, stripe);

    /// <summary>The spools of <paramref name="stripe"/>, one per VM of the manifest: where a stream of that stripe resumes.</summary>
    public IReadOnlyList<ImageSpool> SpoolsOf(int stripe) => _lanes[stripe].Spools;

    /// <summary>
    /// Takes the tree of a newer announcement of the operation: its parent becomes the only one admitted (a stream from the
    /// previous parent is cancelled), the spools stay and the new parent resumes from them. False for an announcement
    /// that is not newer (a redelivery), which changes nothing.
    /// </summary>
    public bool Follow(PendingTransferAnnounced newer)
    {
        var superseded = new List<Admission>();
        var waiting = new List<Lane>();
        string? previousParent;
        string? parent;
        lock (_gate)
        {
            if (newer.Tree.Version <= _announcement.Tree.Version)
            {
                return false;
            }

            var previous = _announcement.Tree;
            previousParent = StripeLayout.ParentOf(previous, VmmId, 0);

            // The spools were laid out for the first manifest; a newer one only changes who pushes, with which token.
            _announcement = newer with { Vms = _announcement.Vms, ChunkSizeBytes = _announcement.ChunkSizeBytes };
            parent = StripeLayout.ParentOf(_announcement.Tree, VmmId, 0);
            foreach (var lane in _lanes.Where(l => StripeLayout.ParentOf(_announcement.Tree, VmmId, l.Stripe) != StripeLayout.ParentOf(previous, VmmId, l.Stripe)))
            {
                if (lane.Active is { } stale)
                {
                    superseded.Add(stale);
                }
                else if (lane.ParentLostAt is not null)
                {
                    // The new parent gets a grace period of its own: the one the lost parent started would otherwise
                    // run out moments after the repair and report the new parent unreachable in the old one's place.
                    lane.ParentLostAt = _timeProvider.GetUtcNow();
                    waiting.Add(lane);
                }
            }
        }

        superseded.ForEach(a => a.Cancel());
        waiting.ForEach(lane => SetParentGrace(lane, _settings.ParentGracePeriod));
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
    public async Task<Admission> AdmitAsync(string senderVmmId, string receiverVmmId, string token, int stripe, CancellationToken callCancelled)
    {
        var announcement = Announcement;
        if (stripe < 0 || stripe >= _lanes.Length)
        {
            return Refuse($"stripe {stripe} is not one of the operation's {_lanes.Length}");
        }

        var lane = _lanes[stripe];
        var parent = StripeLayout.ParentOf(announcement.Tree, VmmId, stripe);
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
            return Refuse(Layout.IsStriped
                ? $"the announced tree names {parent} as the parent of {VmmId} in stripe {stripe}"
                : $"the announced tree names {parent} as the parent of {VmmId}");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(announcement.Token)))
        {
            return Refuse("the token does not match the announcement");
        }

        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(callCancelled, _stopping.Token);
        var admission = Admission.Admitted(this, stripe, cancellation, Release);
        Admission? stale;
        lock (_gate)
        {
            stale = lane.Active;
            lane.Active = admission;
            lane.ParentLostAt = null;
        }

        stale?.Cancel();
        SetParentGrace(lane, Timeout.InfiniteTimeSpan);
        try
        {
            await lane.StreamLock.WaitAsync(callCancelled);
        }
        catch
        {
            lock (_gate)
            {
                if (lane.Active == admission)
                {
                    lane.Active = null;
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

    /// <summary>Stores a chunk of <paramref name="stripe"/> that starts at or before the committed offset and matches its checksum.</summary>
    public async ValueTask<ReceiveOutcome> AppendAsync(int stripe, uint vmIndex, long offset, ReadOnlyMemory<byte> data, ulong xxhash3, CancellationToken cancellationToken)
    {
        if (SpoolAt(stripe, vmIndex) is not { } spool)
        {
            return NotInManifest(vmIndex);
        }

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
    /// <remarks>In a striped operation, the end marker of a stripe checks that stripe (its size and digest, the root's).</remarks>
    public async ValueTask<ReceiveOutcome> CompleteVmAsync(int stripe, uint vmIndex, long bytes, string sha256, CancellationToken cancellationToken)
    {
        if (SpoolAt(stripe, vmIndex) is not { } spool)
        {
            return NotInManifest(vmIndex);
        }

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

            if (alreadyVerified && stripe == 0 && vmIndex == _lanes[0].Spools.Count - 1 && Received.IsCompletedSuccessfully)
            {
                _logger.LogInformation("Operation {OperationId} re-verified on {VmmId}: reporting its copies again", OperationId, VmmId);
                await _events.PublishQuietlyAsync(Received.Result, _logger, VmmId, _stopping.Token);
            }
        }

        return ReceiveOutcome.Done with { Verified = spool.Image with { Bytes = spool.CommittedLength, Sha256 = spool.Sha256! } };
    }

    /// <summary>
    /// What a forwarder of <paramref name="stripe"/> to one of this agent's children reads: the stripe's spools as they
    /// grow, or once the VMM adopted the copies (moving the spool files of an operation of one stripe), the VMM's images.
    /// A spool opened before the adoption keeps reading the moved file. A striped operation's spools stay until it ends.
    /// </summary>
    public async Task<IReadOnlyList<ImageSource>> OpenSourcesAsync(int stripe, CancellationToken cancellationToken)
    {
        await _adoptionLock.WaitAsync(cancellationToken);
        try
        {
            return _adopted && !Layout.IsStriped
                ? Spools.Select(s => (ImageSource)VmmImageSource.Of(_vmm, s.Image.VmId)).ToList()
                : _lanes[stripe].Spools.Select(s => (ImageSource)new SpoolImageSource(s)).ToList();
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
        List<Admission> active;
        lock (_gate)
        {
            active = [.. _lanes.Select(l => l.Active).OfType<Admission>()];
        }

        foreach (var lane in _lanes)
        {
            lane.ParentGrace.Dispose();
        }

        active.ForEach(a => a.Cancel());
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
            for (var vm = 0; vm < _lanes[0].Spools.Count; vm++)
            {
                var vmId = _lanes[0].Spools[vm].Image.VmId;
                if (_adoptedCopies.Any(c => c.VmId == vmId))
                {
                    continue;
                }

                var (path, sha256) = Layout.IsStriped ? await AssembleAsync(vm) : (_lanes[0].Spools[vm].Path, _lanes[0].Spools[vm].Sha256!);
                await _vmm.AdoptAsync(vmId, path, sha256, _stopping.Token);
                lock (_gate)
                {
                    _adoptedCopies.Add(new VmCopy(vmId, sha256, VmState.Paused));
                }

                Record();
            }

            _adopted = true;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return new ReceiveOutcome(ReceiveVerdict.Failed, $"{VmmId} stopped while its VMM adopted the copies");
        }
        catch (InvalidDataException e)
        {
            TreecastMetrics.VerificationFailures.Add(1, new KeyValuePair<string, object?>("vmm", VmmId));
            await FailAsync(e.Message);
            return new ReceiveOutcome(ReceiveVerdict.Lost, e.Message);
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
        new(ReceiveVerdict.Malformed, $"VM index {vmIndex} is not in the manifest of {_lanes[0].Spools.Count} VMs");

    private ImageSpool? SpoolAt(int stripe, uint vmIndex) =>
        stripe >= 0 && stripe < _lanes.Length && vmIndex < _lanes[stripe].Spools.Count ? _lanes[stripe].Spools[(int)vmIndex] : null;

    /// <summary>
    /// Writes VM <paramref name="vm"/>'s image from its verified stripes and checks it against the manifest: each stripe
    /// matched the root's digest of that stripe, the whole matches the root's digest of the image, or the receive fails.
    /// </summary>
    private async Task<(string Path, string Sha256)> AssembleAsync(int vm)
    {
        var image = Announcement.Vms[vm];
        var path = ImagePath(Directory, vm);
        var sha256 = await StripeAssembly.AssembleAsync(Layout, _lanes.Select(l => l.Spools[vm].Path).ToList(), path, _stopping.Token);
        if (!string.Equals(sha256, image.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"VM {image.VmId}: the image assembled from its {Layout.Stripes} stripes has SHA-256 {sha256}, the manifest says {image.Sha256}");
        }

        return (path, sha256);
    }

    /// <summary>One stripe's share of the receive: its stream from its parent, its spool per VM, its parent's grace period.</summary>
    private sealed class Lane(int stripe, IReadOnlyList<ImageSpool> spools)
    {
        public int Stripe { get; } = stripe;

        public IReadOnlyList<ImageSpool> Spools { get; } = spools;

        /// <summary>One stream of the stripe stores at a time; a stream taking over waits for the stale one to let go.</summary>
        public SemaphoreSlim StreamLock { get; } = new(1, 1);

        public ITimer ParentGrace { get; set; } = null!;

        /// <summary>The stream admitted now (under the receiver's gate).</summary>
        public Admission? Active { get; set; }

        /// <summary>When the stripe's stream broke with nothing taking over (under the receiver's gate).</summary>
        public DateTimeOffset? ParentLostAt { get; set; }

        public bool AllVerified => Spools.All(s => s.IsCompleted);
    }
}
