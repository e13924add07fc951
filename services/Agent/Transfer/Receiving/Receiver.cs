using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>
/// One announced operation this agent receives: who may push it and with which token, the spools its chunks go to,
/// and what became of it (verified and adopted by the VMM, or failed). Every step answers with a
/// <see cref="ReceiveOutcome"/>; the gRPC service alone turns outcomes into status codes.
/// </summary>
public sealed class Receiver : IDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    private readonly IVmm _vmm;
    private readonly IEventSink _events;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _streamLock = new(1, 1);
    private readonly Lock _progressGate = new();
    private readonly TaskCompletionSource<VmsReceived> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _adoptionGate = new();
    private Task<ReceiveOutcome>? _adoption;
    private Admission? _active;
    private string? _failureReason;
    private int _relayStarted;
    private long _lastProgressTicks = long.MinValue;
    private int _lastProgressTenth = -1;

    /// <param name="maxUnsealedImageBytes">The bound on an image announced without a size (see <see cref="ImageSpool.MaxBytes"/>).</param>
    public Receiver(
        string vmmId,
        PendingTransferAnnounced announcement,
        string directory,
        IVmm vmm,
        IEventSink events,
        TimeProvider timeProvider,
        ILogger logger,
        long maxUnsealedImageBytes = TransferLimits.DefaultMaxUnsealedImageBytes)
    {
        VmmId = vmmId;
        ParentVmmId = announcement.Tree.Find(vmmId)?.ParentVmmId
            ?? throw new ArgumentException($"The tree of operation {announcement.OperationId} names no parent of {vmmId}.", nameof(announcement));
        Announcement = announcement;
        Directory = directory;
        _vmm = vmm;
        _events = events;
        _timeProvider = timeProvider;
        _logger = logger;
        System.IO.Directory.CreateDirectory(directory);
        Spools = announcement.Vms
            .Select((vm, index) => new ImageSpool(index, vm, Path.Combine(directory, $"{index:D3}.img"), maxUnsealedImageBytes))
            .ToList();
        // The result is observed by whoever asks; a failure nobody awaits must not surface as unobserved.
        _received.Task.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    public Guid OperationId => Announcement.OperationId;

    public string VmmId { get; }

    /// <summary>The only VMM allowed to push this operation to this agent.</summary>
    public string ParentVmmId { get; }

    public PendingTransferAnnounced Announcement { get; }

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
    /// Admits a stream from <paramref name="senderVmmId"/> when it is the announced parent presenting the announced token,
    /// and makes it the only stream receiving this operation: a re-opened stream takes over from a stale one (its parent
    /// reconnected), so the stale one is cancelled rather than waited out.
    /// </summary>
    public async Task<Admission> AdmitAsync(string senderVmmId, string receiverVmmId, string token, CancellationToken callCancelled)
    {
        if (receiverVmmId != VmmId)
        {
            return Refuse($"the push is addressed to {receiverVmmId}, this agent is {VmmId}");
        }

        if (senderVmmId != ParentVmmId)
        {
            return Refuse($"the announced tree names {ParentVmmId} as the parent of {VmmId}");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(Announcement.Token)))
        {
            return Refuse("the token does not match the announcement");
        }

        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(callCancelled, _stopping.Token);
        var admission = Admission.Admitted(this, cancellation, Release);
        Interlocked.Exchange(ref _active, admission)?.Cancel();
        try
        {
            await _streamLock.WaitAsync(callCancelled);
        }
        catch
        {
            Interlocked.CompareExchange(ref _active, null, admission);
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
            return await LoseAsync($"VM {spool.Image.VmId}: the chunk at offset {offset} ({data.Length} bytes) does not match its XxHash3");
        }

        try
        {
            await spool.AppendAsync(data[(int)(committed - offset)..], cancellationToken);
        }
        catch (InvalidDataException e)
        {
            return await LoseAsync(e.Message);
        }
        catch (InvalidOperationException) when (FailureReason is { } failed)
        {
            return new ReceiveOutcome(ReceiveVerdict.Failed, $"the receive already failed: {failed}");
        }

        ReportProgress();
        return ReceiveOutcome.Done;
    }

    /// <summary>
    /// Checks a VM's whole image against the manifest and the sender's end marker; once every VM is verified, the VMM
    /// adopts the copies (once, whatever the number of streams that complete them) and the receive is reported.
    /// </summary>
    public async ValueTask<ReceiveOutcome> CompleteVmAsync(uint vmIndex, long bytes, string sha256, CancellationToken cancellationToken)
    {
        if (vmIndex >= Spools.Count)
        {
            return NotInManifest(vmIndex);
        }

        var spool = Spools[(int)vmIndex];
        var mismatch = await spool.CompleteAsync(bytes, sha256, cancellationToken);
        if (mismatch is not null)
        {
            return await LoseAsync(mismatch);
        }

        if (AllVerified)
        {
            var adopted = await AdoptOnceAsync().WaitAsync(cancellationToken);
            if (!adopted.IsDone)
            {
                return adopted;
            }
        }

        return ReceiveOutcome.Done with { Verified = spool.Image with { Bytes = spool.CommittedLength, Sha256 = spool.Sha256! } };
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

    /// <summary>True once: the first stream admitted starts the relay to this agent's children.</summary>
    internal bool TryStartRelay() => Interlocked.Exchange(ref _relayStarted, 1) == 0;

    public void Dispose()
    {
        _stopping.Cancel();
        Volatile.Read(ref _active)?.Cancel();
        foreach (var spool in Spools)
        {
            spool.Dispose();
        }

        _received.TrySetCanceled();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Adopted images were moved out already; whatever is left is cleaned with the agent's work directory.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private Task<ReceiveOutcome> AdoptOnceAsync()
    {
        lock (_adoptionGate)
        {
            return _adoption ??= AdoptAsync();
        }
    }

    /// <summary>Every image verified: the VMM adopts them and the operation is reported received.</summary>
    private async Task<ReceiveOutcome> AdoptAsync()
    {
        try
        {
            foreach (var spool in Spools)
            {
                await _vmm.AdoptAsync(spool.Image.VmId, spool.Path, spool.Sha256!, _stopping.Token);
            }
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

        var copies = Spools.Select(s => new VmCopy(s.Image.VmId, s.Sha256!, VmState.Paused)).ToList();
        var received = new VmsReceived(OperationId, VmmId, copies);
        _logger.LogInformation(
            "Received operation {OperationId} on {VmmId}: {VmCount} VMs, {TotalBytes} bytes verified and adopted",
            OperationId, VmmId, copies.Count, TotalBytes);
        await _events.PublishQuietlyAsync(new TransferProgressed(OperationId, VmmId, TotalBytes, TotalBytes), _logger, VmmId, _stopping.Token);
        await _events.PublishQuietlyAsync(received, _logger, VmmId, _stopping.Token);
        _received.TrySetResult(received);
        return ReceiveOutcome.Done;
    }

    /// <summary>Coarse progress: at most every 500 ms, and whenever another tenth of the bytes has arrived.</summary>
    private void ReportProgress()
    {
        var received = BytesReceived;
        var total = TotalBytes;
        var now = _timeProvider.GetUtcNow().UtcTicks;
        var tenth = total == 0 ? 10 : (int)(received * 10 / total);
        lock (_progressGate)
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

        _ = _events.PublishQuietlyAsync(new TransferProgressed(OperationId, VmmId, received, total), _logger, VmmId, _stopping.Token);
    }

    private async Task<ReceiveOutcome> LoseAsync(string reason)
    {
        await FailAsync(reason);
        return new ReceiveOutcome(ReceiveVerdict.Lost, reason);
    }

    private Admission Refuse(string reason) => Admission.Refused(new ReceiveOutcome(ReceiveVerdict.Refused, reason), this);

    private ReceiveOutcome NotInManifest(uint vmIndex) =>
        new(ReceiveVerdict.Malformed, $"VM index {vmIndex} is not in the manifest of {Spools.Count} VMs");

    private void Release(Admission admission)
    {
        Interlocked.CompareExchange(ref _active, null, admission);
        _streamLock.Release();
    }
}
