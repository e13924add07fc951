using Microsoft.Extensions.Logging;
using Treecast.Agent.Transfer.Striping;
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
        var layout = new StripeLayout(Math.Max(record.Stripes, 1), TransferLimits.ClampChunkSize(announcement.ChunkSizeBytes));
        if (layout.IsStriped)
        {
            return await LoadStripedAsync(vmmId, directory, vmm, events, settings, timeProvider, logger, record, offsets, layout, cancellationToken);
        }

        var spools = new List<ImageSpool>(announcement.Vms.Count);
        var adopted = new List<VmCopy>();
        try
        {
            for (var index = 0; index < announcement.Vms.Count; index++)
            {
                var image = announcement.Vms[index];
                var path = SpoolPath(directory, index, 0, layout);
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

                spools.Add(await ResumeSpoolAsync(
                    announcement, vmmId, index, 0, (image, settings.MaxUnsealedImageBytes), path, verified, offsets[index], logger, cancellationToken));
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

        return Reloaded(new Receiver(vmmId, announcement, directory, vmm, events, settings, timeProvider, logger, layout, [spools]), adopted, logger);
    }

    /// <summary>
    /// A striped receive found after a restart: every stripe's spool resumed (cut back to what was recorded, a verified one
    /// checked again); a copy the VMM had adopted is taken back, or assembled again from the stripes when it is gone.
    /// </summary>
    private static async Task<Receiver> LoadStripedAsync(
        string vmmId,
        string directory,
        IVmm vmm,
        IEventSink events,
        TransferSettings settings,
        TimeProvider timeProvider,
        ILogger logger,
        ReceiveRecord record,
        IReadOnlyList<long> offsets,
        StripeLayout layout,
        CancellationToken cancellationToken)
    {
        var announcement = record.Announcement;
        var vms = announcement.Vms;
        var lanes = new List<IReadOnlyList<ImageSpool>>(layout.Stripes);
        try
        {
            for (var stripe = 0; stripe < layout.Stripes; stripe++)
            {
                var spools = new List<ImageSpool>(vms.Count);
                lanes.Add(spools);
                for (var index = 0; index < vms.Count; index++)
                {
                    var flat = (stripe * vms.Count) + index;
                    var verified = flat < record.Verified.Count ? record.Verified[flat] : null;
                    spools.Add(await ResumeSpoolAsync(
                        announcement, vmmId, index, stripe, LaneImage(vms[index], stripe, layout, settings), SpoolPath(directory, index, stripe, layout),
                        verified, offsets[flat], logger, cancellationToken));
                }
            }
        }
        catch
        {
            foreach (var spool in lanes.SelectMany(l => l))
            {
                spool.Dispose();
            }

            throw;
        }

        var adopted = new List<VmCopy>();
        foreach (var image in vms.Where(v => record.Adopted.Contains(v.VmId)))
        {
            if (await vmm.RecoverAsync(image.VmId, image.Sha256, cancellationToken))
            {
                adopted.Add(new VmCopy(image.VmId, image.Sha256, VmState.Paused));
            }
            else
            {
                logger.LogWarning(
                    "Copy {VmId} of operation {OperationId} is gone from VMM {VmmId} after its restart: assembling it again from its stripes",
                    image.VmId, announcement.OperationId, vmmId);
            }
        }

        return Reloaded(new Receiver(vmmId, announcement, directory, vmm, events, settings, timeProvider, logger, layout, lanes), adopted, logger);
    }

    /// <summary>
    /// One spool as a restart finds it: cut back to what was recorded and hashed again; one recorded verified is checked
    /// again, and received again from nothing when it no longer verifies.
    /// </summary>
    private static async Task<ImageSpool> ResumeSpoolAsync(
        PendingTransferAnnounced announcement,
        string vmmId,
        int index,
        int stripe,
        (VmImage Image, long MaxBytes) lane,
        string path,
        VmImage? verified,
        long storedBytes,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var spool = await ImageSpool.ResumeAsync(index, lane.Image, path, verified?.Bytes ?? storedBytes, lane.MaxBytes, cancellationToken);
        if (verified is not null && await spool.CompleteAsync(verified.Bytes, verified.Sha256, cancellationToken) is { } mismatch)
        {
            logger.LogWarning(
                "Spool of stripe {Stripe} of VM {VmId} of operation {OperationId} on {VmmId} no longer verifies ({Reason}): receiving it again",
                stripe, lane.Image.VmId, announcement.OperationId, vmmId, mismatch);
            spool.Dispose();
            spool = new ImageSpool(index, lane.Image, path, lane.MaxBytes);
        }

        return spool;
    }

    private static Receiver Reloaded(Receiver receiver, List<VmCopy> adopted, ILogger logger)
    {
        var vmCount = receiver.Announcement.Vms.Count;
        receiver._adoptedCopies.AddRange(adopted);
        if (adopted.Count == vmCount)
        {
            receiver._adopted = true;
            receiver._adoption = Task.FromResult(ReceiveOutcome.Done);
            receiver._received.TrySetResult(new VmsReceived(receiver.OperationId, receiver.VmmId, adopted));
        }

        receiver.Record();
        logger.LogInformation(
            "Reloaded the receive of operation {OperationId} on {VmmId} from {Directory}: {BytesReceived} bytes held in {Stripes} stripe(s), {VerifiedCount} of {SpoolCount} spools verified, {AdoptedCount} of {VmCount} VMs adopted",
            receiver.OperationId, receiver.VmmId, receiver.Directory, receiver.BytesReceived, receiver.Layout.Stripes,
            receiver.Spools.Count(s => s.IsCompleted), receiver.Spools.Count, adopted.Count, vmCount);
        return receiver;
    }

    /// <summary>For a receive reloaded with every image verified but not adopted yet (the agent stopped between the two): adopts now.</summary>
    public async Task<ReceiveOutcome> AdoptIfVerifiedAsync() => AllVerified ? await AdoptOnceAsync() : ReceiveOutcome.Done;

    private static IReadOnlyList<IReadOnlyList<ImageSpool>> NewSpools(PendingTransferAnnounced announcement, string directory, TransferSettings settings)
    {
        System.IO.Directory.CreateDirectory(directory);
        var layout = StripeLayout.Of(announcement);
        return Enumerable.Range(0, layout.Stripes)
            .Select(stripe => (IReadOnlyList<ImageSpool>)announcement.Vms
                .Select((vm, index) =>
                {
                    var (image, maxBytes) = LaneImage(vm, stripe, layout, settings);
                    return new ImageSpool(index, image, SpoolPath(directory, index, stripe, layout), maxBytes);
                })
                .ToList())
            .ToList();
    }

    /// <summary>
    /// What one stripe's spool of <paramref name="vm"/> holds, and the most it may grow to: the image itself in an operation
    /// of one stripe; in a striped one, the stripe, whose size follows from the manifest and whose digest the sender's
    /// end marker brings (the root's digest of that stripe).
    /// </summary>
    private static (VmImage Image, long MaxBytes) LaneImage(VmImage vm, int stripe, StripeLayout layout, TransferSettings settings) =>
        layout.IsStriped
            ? (VmImage.Unsealed(vm.VmId, vm.Definition), layout.LengthOf(vm.Bytes, stripe))
            : (vm, settings.MaxUnsealedImageBytes);

    private static string SpoolPath(string directory, int index, int stripe, StripeLayout layout) =>
        Path.Combine(directory, layout.IsStriped ? $"{index:D3}.stripe{stripe:D2}.img" : $"{index:D3}.img");

    /// <summary>Where a striped operation's VM image is assembled before the VMM adopts (moves) it.</summary>
    private static string ImagePath(string directory, int index) => Path.Combine(directory, $"{index:D3}.img");

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
                _journal.Write(new ReceiveRecord(announcement, verified, adopted, _timeProvider.GetUtcNow(), Layout.Stripes));
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
