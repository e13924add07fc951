using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// The transfer side of one agent: the operations it announced as root, the ones it receives (one
/// <see cref="Receiver"/> each), and the forwarders that push to its children (from its own images at the root,
/// from spools on a relay).
/// </summary>
public sealed class TransferEngine : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, PendingTransferAnnounced> _announced = new();
    private readonly ConcurrentDictionary<Guid, Receiver> _receivers = new();
    private readonly ConcurrentDictionary<Guid, Task> _forwarding = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _receiveDirectory;
    private readonly IEventSink _events;
    private readonly GrpcChannelPool _channels;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;

    public TransferEngine(
        string vmmId,
        IVmm vmm,
        string receiveDirectory,
        IEventSink events,
        GrpcChannelPool channels,
        TransferSettings settings,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        VmmId = vmmId;
        Settings = settings;
        Vmm = vmm;
        _receiveDirectory = receiveDirectory;
        _events = events;
        _channels = channels;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<TransferEngine>();
        Directory.CreateDirectory(receiveDirectory);
    }

    public string VmmId { get; }

    public IVmm Vmm { get; }

    public TransferSettings Settings { get; }

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
    /// As a receiver: prepares a <see cref="Receiver"/> for an announcement naming this VMM below the root. Returns null
    /// when the announcement is not for this agent (not in the tree, or its root); idempotent for a redelivered one.
    /// </summary>
    public Receiver? Expect(PendingTransferAnnounced announcement)
    {
        var node = announcement.Tree.Find(VmmId);
        if (node?.ParentVmmId is not { } parent || announcement.Tree.RootVmmId == VmmId)
        {
            return null;
        }

        var created = false;
        var receiver = _receivers.GetOrAdd(announcement.OperationId, _ =>
        {
            created = true;
            return new Receiver(
                VmmId,
                announcement,
                Path.Combine(_receiveDirectory, announcement.OperationId.ToString("N")),
                Vmm,
                _events,
                _timeProvider,
                _loggerFactory.CreateLogger<Receiver>(),
                Settings.MaxUnsealedImageBytes);
        });
        if (created)
        {
            _logger.LogInformation(
                "Expecting operation {OperationId} on {VmmId} from {ParentVmmId}: {VmCount} VMs, {TotalBytes} bytes ({UnsealedCount} of unknown size)",
                announcement.OperationId, VmmId, parent, announcement.Vms.Count, receiver.TotalBytes, announcement.Vms.Count(v => !v.IsSealed));
        }

        return receiver;
    }

    public bool TryGetReceiver(Guid operationId, [NotNullWhen(true)] out Receiver? receiver) =>
        _receivers.TryGetValue(operationId, out receiver);

    public bool TryGetAnnounced(Guid operationId, [NotNullWhen(true)] out PendingTransferAnnounced? announcement) =>
        _announced.TryGetValue(operationId, out announcement);

    /// <summary>
    /// Admits a push of an operation announced to this agent (see <see cref="Receiver.AdmitAsync"/>); the first admitted
    /// stream also starts the relay to this agent's children, fed from the spools as they grow.
    /// </summary>
    public async Task<Admission> AdmitAsync(string operationId, string senderVmmId, string receiverVmmId, string token, CancellationToken callCancelled)
    {
        if (!Guid.TryParse(operationId, out var id) || !_receivers.TryGetValue(id, out var receiver))
        {
            return Admission.Refused(new ReceiveOutcome(ReceiveVerdict.Refused, $"operation {operationId} was not announced to {VmmId}"));
        }

        var admission = await receiver.AdmitAsync(senderVmmId, receiverVmmId, token, callCancelled);
        if (admission.Outcome.IsDone && receiver.TryStartRelay())
        {
            // Pipelined: the children are fed from the spools while the parent is still sending.
            StartForwarding(receiver.Announcement, () => receiver.Spools
                .Select(spool => (ImageSource)new SpoolImageSource(spool))
                .ToList());
        }

        return admission;
    }

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

        foreach (var receiver in _receivers.Values)
        {
            receiver.Dispose();
        }

        _receivers.Clear();
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
                RetryDelays = Settings.RetryDelays,
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
            if (_receivers.TryGetValue(announcement.OperationId, out var received) && received.FailureReason is not null)
            {
                _logger.LogWarning("Stopped forwarding operation {OperationId} to {ChildVmmId}: the receive on {VmmId} failed", announcement.OperationId, child.VmmId, VmmId);
            }
            else
            {
                _logger.LogError("Relay of operation {OperationId} to {ChildVmmId} failed: {Reason}", announcement.OperationId, child.VmmId, e.Message);
                await _events.PublishQuietlyAsync(new OperationStepFailed(announcement.OperationId, child.VmmId, OperationStep.Relay, e.Message), _logger, VmmId, _stopping.Token);
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
}
