using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>An announced operation this agent will receive: who may push it, with which token, and its spools.</summary>
public sealed class ExpectedTransfer : IDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    private readonly SemaphoreSlim _receiveLock = new(1, 1);
    private readonly object _progressGate = new();
    private readonly TaskCompletionSource<VmsReceived> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _activeReceive;
    private string? _failureReason;
    private int _relayStarted;
    private int _adoptionStarted;
    private long _lastProgressTicks = long.MinValue;
    private int _lastProgressTenth = -1;

    /// <param name="maxUnsealedImageBytes">The bound on an image announced without a size (see <see cref="ImageSpool.MaxBytes"/>).</param>
    public ExpectedTransfer(
        string vmmId,
        string parentVmmId,
        PendingTransferAnnounced announcement,
        string directory,
        long maxUnsealedImageBytes = TransferLimits.DefaultMaxUnsealedImageBytes)
    {
        VmmId = vmmId;
        ParentVmmId = parentVmmId;
        Announcement = announcement;
        Directory = directory;
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
    /// Makes the caller the only stream receiving this operation. A re-opened stream takes over from a stale
    /// one (its parent reconnected), so the stale one is cancelled rather than waited out.
    /// </summary>
    internal async Task<ReceiveLease> AcquireReceiveAsync(CancellationToken callCancelled)
    {
        var mine = CancellationTokenSource.CreateLinkedTokenSource(callCancelled);
        CancelQuietly(Interlocked.Exchange(ref _activeReceive, mine));
        try
        {
            await _receiveLock.WaitAsync(callCancelled);
        }
        catch
        {
            mine.Dispose();
            throw;
        }

        return new ReceiveLease(this, mine);
    }

    internal bool TryFail(string reason)
    {
        if (Interlocked.CompareExchange(ref _failureReason, reason, null) is not null)
        {
            return false;
        }

        var failure = new InvalidDataException(reason);
        foreach (var spool in Spools)
        {
            spool.Fail(failure);
        }

        _received.TrySetException(failure);
        return true;
    }

    internal bool TryStartRelay() => Interlocked.Exchange(ref _relayStarted, 1) == 0;

    internal bool TryStartAdoption() => Interlocked.Exchange(ref _adoptionStarted, 1) == 0;

    internal void SetReceived(VmsReceived received) => _received.TrySetResult(received);

    /// <summary>True at most every 500 ms, and whenever another tenth of the bytes has arrived.</summary>
    internal bool ShouldReportProgress(long nowTicks, long bytesReceived)
    {
        var tenth = TotalBytes == 0 ? 10 : (int)(bytesReceived * 10 / TotalBytes);
        lock (_progressGate)
        {
            var due = _lastProgressTicks == long.MinValue
                || nowTicks - _lastProgressTicks >= ProgressInterval.Ticks
                || tenth > _lastProgressTenth;
            if (!due)
            {
                return false;
            }

            _lastProgressTicks = nowTicks;
            _lastProgressTenth = tenth;
            return true;
        }
    }

    public void Dispose()
    {
        CancelQuietly(Interlocked.Exchange(ref _activeReceive, null));
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

    private static void CancelQuietly(CancellationTokenSource? receive)
    {
        try
        {
            receive?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That stream ended on its own meanwhile.
        }
    }

    /// <summary>Held by the one stream that currently receives this operation.</summary>
    internal sealed class ReceiveLease(ExpectedTransfer transfer, CancellationTokenSource cancellation) : IDisposable
    {
        public CancellationToken Token => cancellation.Token;

        public void Dispose()
        {
            Interlocked.CompareExchange(ref transfer._activeReceive, null, cancellation);
            transfer._receiveLock.Release();
            cancellation.Dispose();
        }
    }
}
