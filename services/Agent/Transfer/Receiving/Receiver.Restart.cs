using Microsoft.Extensions.Logging;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer.Receiving;

/// <summary>What survives a restart: the receive's journal, written as it goes, and the receive rebuilt from it.</summary>
public sealed partial class Receiver
{
    // How often the stored offsets are recorded: a restart re-fetches at most this long a stream's bytes. Each checkpoint
    // makes the spools durable (fsync), so it runs beside the receive, never in its way: inline (as it was, every 16 MiB)
    // the stream waited for each fsync. Measured on loopback the change was within the noise; it is kept for that reason.
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private int _checkpointing;

    /// <summary>
    /// The receive a restarted agent found in <paramref name="directory"/>: each spool cut back to what was durably
    /// recorded and hashed again, a verified image checked again, a copy the VMM had adopted taken back by the VMM (or, if
    /// it is gone, received again). Null when the directory holds no record.
    /// </summary>
    public static async Task<Receiver?> LoadAsync(
        string vmmId,
        string directory,
        IVmm vmm,
        IEventSink events,
        TransferSettings settings,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        if (new ReceiveJournal(directory).Read() is not var (record, offsets, _))
        {
            return null;
        }

        var announcement = record.Announcement;
        var spools = new List<ImageSpool>(announcement.Vms.Count);
        var adopted = new List<VmCopy>();
        try
        {
            for (var index = 0; index < announcement.Vms.Count; index++)
            {
                var image = announcement.Vms[index];
                var path = SpoolPath(directory, index);
                var verified = index < record.Verified.Count ? record.Verified[index] : null;
                if (verified is not null && record.Adopted.Contains(image.VmId))
                {
                    if (await vmm.RecoverAsync(image.VmId, verified.Sha256, cancellationToken))
                    {
                        spools.Add(ImageSpool.Adopted(index, image, path, verified));
                        adopted.Add(new VmCopy(image.VmId, verified.Sha256, VmState.Paused));
                        continue;
                    }

                    logger.LogWarning(
                        "Copy {VmId} of operation {OperationId} is gone from VMM {VmmId} after its restart: receiving it again",
                        image.VmId, announcement.OperationId, vmmId);
                    spools.Add(new ImageSpool(index, image, path, settings.MaxUnsealedImageBytes));
                    continue;
                }

                var spool = await ImageSpool.ResumeAsync(index, image, path, verified?.Bytes ?? offsets[index], settings.MaxUnsealedImageBytes, cancellationToken);
                if (verified is not null && await spool.CompleteAsync(verified.Bytes, verified.Sha256, cancellationToken) is { } mismatch)
                {
                    logger.LogWarning("Spool of VM {VmId} of operation {OperationId} on {VmmId} no longer verifies ({Reason}): receiving it again", image.VmId, announcement.OperationId, vmmId, mismatch);
                    spool.Dispose();
                    spool = new ImageSpool(index, image, path, settings.MaxUnsealedImageBytes);
                }

                spools.Add(spool);
            }
        }
        catch
        {
            foreach (var spool in spools)
            {
                spool.Dispose();
            }

            throw;
        }

        var receiver = new Receiver(vmmId, announcement, directory, vmm, events, settings, timeProvider, logger, spools);
        receiver._adoptedCopies.AddRange(adopted);
        if (adopted.Count == spools.Count)
        {
            receiver._adopted = true;
            receiver._adoption = Task.FromResult(ReceiveOutcome.Done);
            receiver._received.TrySetResult(new VmsReceived(announcement.OperationId, vmmId, adopted));
        }

        receiver.Record();
        logger.LogInformation(
            "Reloaded the receive of operation {OperationId} on {VmmId} from {Directory}: {BytesReceived} bytes held, {VerifiedCount} of {VmCount} VMs verified, {AdoptedCount} adopted",
            announcement.OperationId, vmmId, directory, receiver.BytesReceived, spools.Count(s => s.IsCompleted), spools.Count, adopted.Count);
        return receiver;
    }

    /// <summary>For a receive reloaded with every image verified but not adopted yet (the agent stopped between the two): adopts now.</summary>
    public async Task<ReceiveOutcome> AdoptIfVerifiedAsync() => AllVerified ? await AdoptOnceAsync() : ReceiveOutcome.Done;

    private static IReadOnlyList<ImageSpool> NewSpools(PendingTransferAnnounced announcement, string directory, TransferSettings settings)
    {
        System.IO.Directory.CreateDirectory(directory);
        return announcement.Vms
            .Select((vm, index) => new ImageSpool(index, vm, SpoolPath(directory, index), settings.MaxUnsealedImageBytes))
            .ToList();
    }

    private static string SpoolPath(string directory, int index) => Path.Combine(directory, $"{index:D3}.img");

    /// <summary>Writes <c>receive.json</c>: the announcement followed, the images verified, the copies adopted.</summary>
    private void Record()
    {
        // One writer at a time, each writing what holds when it writes: a slower writer never puts back an older record.
        lock (_recordGate)
        {
            if (_deleted)
            {
                return;
            }

            var announcement = Announcement;
            List<string> adopted;
            lock (_gate)
            {
                adopted = [.. _adoptedCopies.Select(c => c.VmId)];
            }

            var verified = Spools.Select(s => s.Sha256 is { } sha256 ? s.Image with { Bytes = s.CommittedLength, Sha256 = sha256 } : null).ToList();
            try
            {
                _journal.Write(new ReceiveRecord(announcement, verified, adopted, _timeProvider.GetUtcNow()));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The receive goes on; only a restart would lose what was not recorded.
                _logger.LogWarning("Could not record the receive of operation {OperationId} on {VmmId}: {Reason}", OperationId, VmmId, e.Message);
            }
        }
    }

    /// <summary>Records the stored offsets in the background about once a second (one checkpoint at a time), not per chunk.</summary>
    private void CheckpointIfDue()
    {
        if (_stopping.IsCancellationRequested || _timeProvider.GetElapsedTime(Interlocked.Read(ref _checkpointedAt)) < CheckpointInterval
            || Interlocked.CompareExchange(ref _checkpointing, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await CheckpointAsync(_stopping.Token);
            }
            catch (Exception e) when (_stopping.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException)
            {
                // The receive stopped meanwhile; stopping records its own checkpoint.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or InvalidOperationException)
            {
                _logger.LogWarning("Could not record how far the receive of operation {OperationId} on {VmmId} got: {Reason}", OperationId, VmmId, e.Message);
            }
            finally
            {
                Volatile.Write(ref _checkpointing, 0);
            }
        });
    }

    /// <summary>Flushes every spool to disk, then records how far each reaches: a recorded offset never names bytes a crash could lose.</summary>
    private async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        await _checkpointLock.WaitAsync(cancellationToken);
        try
        {
            if (_deleted)
            {
                return;
            }

            var offsets = new long[Spools.Count];
            for (var i = 0; i < offsets.Length; i++)
            {
                offsets[i] = await Spools[i].FlushAsync(cancellationToken);
            }

            _journal.WriteOffsets(offsets, _timeProvider.GetUtcNow());
            Interlocked.Exchange(ref _checkpointedAt, _timeProvider.GetTimestamp());
        }
        finally
        {
            _checkpointLock.Release();
        }
    }
}
