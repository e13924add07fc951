using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// The transfer side of one agent: the operations it announced as root, the ones it expects to receive,
/// and the forwarders that push to its children (from its own images at the root, from spools on a relay).
/// </summary>
public sealed class TransferEngine : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, PendingTransferAnnounced> _announced = new();
    private readonly ConcurrentDictionary<Guid, ExpectedTransfer> _expected = new();
    private readonly ConcurrentDictionary<Guid, Task> _forwarding = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _spoolDirectory;
    private readonly IEventSink _events;
    private readonly GrpcChannelPool _channels;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;

    public TransferEngine(
        string vmmId,
        IVmm vmm,
        string spoolDirectory,
        IEventSink events,
        GrpcChannelPool channels,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        VmmId = vmmId;
        Vmm = vmm;
        _spoolDirectory = spoolDirectory;
        _events = events;
        _channels = channels;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<TransferEngine>();
        Directory.CreateDirectory(spoolDirectory);
    }

    public string VmmId { get; }

    public IVmm Vmm { get; }

    /// <summary>The most this agent receives for an image announced without a size before refusing the stream as a runaway.</summary>
    public long MaxUnsealedImageBytes { get; init; } = TransferLimits.DefaultMaxUnsealedImageBytes;

    /// <summary>Waits between a forwarder's attempts after a broken stream (shortened by tests).</summary>
    public IReadOnlyList<TimeSpan>? RetryDelays { get; init; }

    /// <summary>
    /// As the root: draws the operation's token and remembers the announcement for <see cref="StartTransfer"/>.
    /// Announcing the same operation again returns the same announcement.
    /// </summary>
    public PendingTransferAnnounced Announce(AnnouncePendingTransfer command)
    {
        if (command.Tree.RootVmmId != VmmId)
        {
            throw new InvalidOperationException(
                $"Operation {command.OperationId}: the tree is rooted at {command.Tree.RootVmmId}, so {VmmId} cannot announce it.");
        }

        return _announced.GetOrAdd(command.OperationId, _ => new PendingTransferAnnounced(
            command.OperationId,
            VmmId,
            command.Tree,
            command.Vms,
            Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)),
            TransferLimits.ClampChunkSize(command.ChunkSizeBytes),
            command.Mode));
    }

    /// <summary>
    /// As a receiver: prepares spools for an announcement naming this VMM below the root. Returns null when the
    /// announcement is not for this agent (not in the tree, or its root); idempotent for a redelivered one.
    /// </summary>
    public ExpectedTransfer? Expect(PendingTransferAnnounced announcement)
    {
        var node = announcement.Tree.Find(VmmId);
        if (node?.ParentVmmId is not { } parent || announcement.Tree.RootVmmId == VmmId)
        {
            return null;
        }

        var created = false;
        var transfer = _expected.GetOrAdd(announcement.OperationId, _ =>
        {
            created = true;
            return new ExpectedTransfer(VmmId, parent, announcement, Path.Combine(_spoolDirectory, announcement.OperationId.ToString("N")), MaxUnsealedImageBytes);
        });
        if (created)
        {
            _logger.LogInformation(
                "Expecting operation {OperationId} on {VmmId} from {ParentVmmId}: {VmCount} VMs, {TotalBytes} bytes ({UnsealedCount} of unknown size)",
                announcement.OperationId, VmmId, parent, announcement.Vms.Count, transfer.TotalBytes, announcement.Vms.Count(v => !v.IsSealed));
        }

        return transfer;
    }

    public bool TryGetExpected(Guid operationId, [NotNullWhen(true)] out ExpectedTransfer? transfer) =>
        _expected.TryGetValue(operationId, out transfer);

    public bool TryGetAnnounced(Guid operationId, [NotNullWhen(true)] out PendingTransferAnnounced? announcement) =>
        _announced.TryGetValue(operationId, out announcement);

    /// <summary>As the root: starts one forwarder per child, each reading the VMM's images. False for an unknown operation.</summary>
    public bool StartTransfer(Guid operationId)
    {
        if (!_announced.TryGetValue(operationId, out var announcement))
        {
            return false;
        }

        StartForwarding(announcement, () => announcement.Vms
            .Select(vm => (ImageSource)new VmmImageSource(() => Vmm.OpenImage(vm.VmId), cancellationToken => Vmm.SealedImageAsync(vm.VmId, cancellationToken)))
            .ToList());
        return true;
    }

    /// <summary>Completes when every forwarder of the operation ended (successfully or not); for the runtime and tests.</summary>
    public Task ForwardingCompletion(Guid operationId) =>
        _forwarding.TryGetValue(operationId, out var task) ? task : Task.CompletedTask;

    internal void StartRelay(ExpectedTransfer transfer)
    {
        if (transfer.TryStartRelay())
        {
            StartForwarding(transfer.Announcement, () => transfer.Spools
                .Select(spool => (ImageSource)new SpoolImageSource(spool))
                .ToList());
        }
    }

    internal void ReportProgress(ExpectedTransfer transfer)
    {
        var received = transfer.BytesReceived;
        if (transfer.ShouldReportProgress(_timeProvider.GetUtcNow().UtcTicks, received))
        {
            PublishInBackground(new TransferProgressed(transfer.OperationId, VmmId, received, transfer.TotalBytes));
        }
    }

    /// <summary>Every image verified: the VMM adopts them (once) and the operation is reported received.</summary>
    internal async Task CompleteReceiveAsync(ExpectedTransfer transfer, CancellationToken cancellationToken)
    {
        if (!transfer.TryStartAdoption())
        {
            return;
        }

        try
        {
            foreach (var spool in transfer.Spools)
            {
                await Vmm.AdoptAsync(spool.Image.VmId, spool.Path, spool.Sha256!, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var reason = $"VMM {VmmId} could not adopt the received images: {e.Message}";
            await FailReceiveAsync(transfer, reason);
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Aborted, $"Operation {transfer.OperationId}: {reason}"));
        }

        var copies = transfer.Spools
            .Select(s => new VmCopy(s.Image.VmId, s.Sha256!, VmState.Paused))
            .ToList();
        var received = new VmsReceived(transfer.OperationId, VmmId, copies);
        _logger.LogInformation(
            "Received operation {OperationId} on {VmmId}: {VmCount} VMs, {TotalBytes} bytes verified and adopted",
            transfer.OperationId, VmmId, copies.Count, transfer.TotalBytes);
        await PublishAsync(new TransferProgressed(transfer.OperationId, VmmId, transfer.TotalBytes, transfer.TotalBytes));
        await PublishAsync(received);
        transfer.SetReceived(received);
    }

    /// <summary>Fails a receive for good: its spools fail, forwarders reading them stop, and the failure is published once.</summary>
    public async Task FailReceiveAsync(ExpectedTransfer transfer, string reason)
    {
        if (transfer.TryFail(reason))
        {
            _logger.LogError("Receive of operation {OperationId} on {VmmId} failed: {Reason}", transfer.OperationId, VmmId, reason);
            await PublishAsync(new OperationStepFailed(transfer.OperationId, VmmId, OperationStep.Receive, reason));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_forwarding.Values).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception)
        {
            // Forwarders report their own failures; stopping only waits for them to let go of their files.
        }

        foreach (var transfer in _expected.Values)
        {
            transfer.Dispose();
        }

        _expected.Clear();
        _stopping.Dispose();
    }

    private void StartForwarding(PendingTransferAnnounced announcement, Func<IReadOnlyList<ImageSource>> openSources)
    {
        var children = announcement.Tree.ChildrenOf(VmmId).ToList();
        if (children.Count == 0)
        {
            return;
        }

        lock (_forwarding)
        {
            if (_forwarding.ContainsKey(announcement.OperationId))
            {
                return; // A redelivered StartTransfer: the forwarders already run.
            }

            // Sources are opened here, synchronously, so a relay holds its spool handles before the VMM adopts (moves) them.
            var forwarders = children.Select(child => ForwardAsync(announcement, child, openSources())).ToList();
            _forwarding[announcement.OperationId] = Task.WhenAll(forwarders);
        }
    }

    private async Task ForwardAsync(PendingTransferAnnounced announcement, TreeNode child, IReadOnlyList<ImageSource> sources)
    {
        await Task.Yield();
        try
        {
            var target = new ForwardTarget(announcement.OperationId, announcement.Token, VmmId, child, announcement.Vms, announcement.ChunkSizeBytes);
            var forwarder = new ChunkForwarder(target, sources, _channels.For(child.GrpcEndpoint), _loggerFactory.CreateLogger<ChunkForwarder>(), _timeProvider)
            {
                RetryDelays = RetryDelays ?? ChunkForwarder.DefaultRetryDelays,
            };

            await forwarder.RunAsync(_stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            _logger.LogInformation("Stopped forwarding operation {OperationId} to {ChildVmmId}: the agent is stopping", announcement.OperationId, child.VmmId);
        }
        catch (Exception e)
        {
            // When this agent's own receive failed, that failure (already reported) is the cause; say it once.
            if (_expected.TryGetValue(announcement.OperationId, out var received) && received.FailureReason is not null)
            {
                _logger.LogWarning("Stopped forwarding operation {OperationId} to {ChildVmmId}: the receive on {VmmId} failed", announcement.OperationId, child.VmmId, VmmId);
            }
            else
            {
                _logger.LogError("Relay of operation {OperationId} to {ChildVmmId} failed: {Reason}", announcement.OperationId, child.VmmId, e.Message);
                await PublishAsync(new OperationStepFailed(announcement.OperationId, child.VmmId, OperationStep.Relay, e.Message));
            }
        }
        finally
        {
            foreach (var source in sources)
            {
                source.Dispose();
            }
        }
    }

    private void PublishInBackground<T>(T message)
        where T : class => _ = PublishAsync(message);

    private async Task PublishAsync<T>(T message)
        where T : class
    {
        try
        {
            await _events.PublishAsync(message, _stopping.Token);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Could not publish {MessageType} from {VmmId}", typeof(T).Name, VmmId);
        }
    }
}
