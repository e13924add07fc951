using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Transfer.Receiving;
using Treecast.Agent.Transfer.Striping;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// The transfer side of one agent: the operations it announced as root, the ones it receives (one
/// <see cref="Receiver"/> each), and the forwarders that push to its children (<see cref="Forwarding"/>: from its own
/// images at the root, from spools on a relay), all following the newest tree of each operation.
/// </summary>
public sealed class TransferEngine : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, PendingTransferAnnounced> _announced = new();
    private readonly ConcurrentDictionary<Guid, Receiver> _receivers = new();
    private readonly ConcurrentDictionary<Guid, Forwarding> _forwarding = new();
    private readonly ConcurrentDictionary<Guid, RootStripes> _rootStripes = new();
    private readonly HashSet<Guid> _ended = [];
    private readonly List<Receiver> _reloaded = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _receiveDirectory;
    private readonly IEventSink _events;
    private readonly GrpcChannelPool _channels;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SendRateLimit _sendLimit;

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
        _sendLimit = new SendRateLimit(settings.MaxSendBytesPerSecond, timeProvider);
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
    /// As the root: draws the operation's token and remembers the announcement for <see cref="StartTransfer"/>. Announcing
    /// the same operation again returns the same announcement; with a newer tree version, the announcement (same token)
    /// takes that tree, and a transfer already started follows it: forwarders to children no longer the root's stop,
    /// new children get theirs.
    /// </summary>
    /// <remarks>
    /// A striped tree is announced striped only when every image is sealed (a stripe's size and digest follow from the
    /// image's); otherwise, and for every later tree of an operation first announced so, the announcement carries stripe
    /// 0's tree alone, which carries every chunk. Every agent lays its spools out by the first announcement it gets.
    /// </remarks>
    public PendingTransferAnnounced Announce(AnnouncePendingTransfer command)
    {
        if (command.Tree.RootVmmId != VmmId)
        {
            throw new InvalidOperationException(
                $"Operation {command.OperationId}: the tree is rooted at {command.Tree.RootVmmId}, so {VmmId} cannot announce it.");
        }

        lock (_gate)
        {
            if (!_announced.TryGetValue(command.OperationId, out var announced))
            {
                var striped = command.Tree.Stripes > 1 && command.Vms.All(v => v.IsSealed);
                if (command.Tree.Stripes > 1 && !striped)
                {
                    _logger.LogInformation(
                        "Operation {OperationId} announced from {VmmId} in one stripe instead of {Stripes}: {UnsealedCount} images are still being saved (their size is unknown)",
                        command.OperationId, VmmId, command.Tree.Stripes, command.Vms.Count(v => !v.IsSealed));
                }

                announced = _announced[command.OperationId] = new PendingTransferAnnounced(
                    command.OperationId,
                    VmmId,
                    striped ? command.Tree : command.Tree.FirstStripeOnly(),
                    command.Vms,
                    Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)),
                    TransferLimits.ClampChunkSize(command.ChunkSizeBytes),
                    command.Mode);
                ConnectAhead(announced);
                return announced;
            }

            if (command.Tree.Version <= announced.Tree.Version)
            {
                return announced;
            }

            var newer = announced with { Tree = announced.Tree.Stripes > 1 ? command.Tree : command.Tree.FirstStripeOnly(), Vms = command.Vms };
            _announced[command.OperationId] = newer;
            ConnectAhead(newer);
            _logger.LogInformation(
                "Operation {OperationId} re-announced from {VmmId} with tree version {TreeVersion} ({VmmCount} VMMs)",
                command.OperationId, VmmId, command.Tree.Version, command.Tree.Nodes.Count);
            if (_forwarding.TryGetValue(command.OperationId, out var forwarding))
            {
                forwarding.Follow(newer);
            }

            return newer;
        }
    }

    /// <summary>
    /// As a receiver: prepares a <see cref="Receiver"/> for an announcement naming this VMM below the root, or has the one
    /// it has follow a newer tree (and the forwarders to its children with it). Returns null when the announcement is not
    /// for this agent (not in the tree, or its root); an agent the newer tree leaves out stops the operation's streams but
    /// keeps its files (it may be named again). Idempotent for a redelivered announcement.
    /// </summary>
    public Receiver? Expect(PendingTransferAnnounced announcement)
    {
        if (announcement.Tree.RootVmmId == VmmId)
        {
            return null;
        }

        var inTree = announcement.Tree.Find(VmmId)?.ParentVmmId is not null;
        lock (_gate)
        {
            if (_ended.Contains(announcement.OperationId))
            {
                _logger.LogInformation("Ignored an announcement of operation {OperationId} on {VmmId}: the operation ended here", announcement.OperationId, VmmId);
                return null;
            }

            if (_receivers.TryGetValue(announcement.OperationId, out var known))
            {
                if (known.Follow(announcement))
                {
                    ConnectAhead(known.Announcement);
                    FollowAsRelay(known);
                }

                return inTree ? known : null;
            }

            if (!inTree)
            {
                return null;
            }

            var receiver = new Receiver(
                VmmId,
                announcement,
                Path.Combine(_receiveDirectory, announcement.OperationId.ToString("N")),
                Vmm,
                _events,
                Settings,
                _timeProvider,
                _loggerFactory.CreateLogger<Receiver>());
            _receivers[announcement.OperationId] = receiver;
            ConnectAhead(announcement);
            _logger.LogInformation(
                "Expecting operation {OperationId} on {VmmId} from {ParentVmmId}: {VmCount} VMs, {TotalBytes} bytes ({UnsealedCount} of unknown size)",
                announcement.OperationId, VmmId, receiver.ParentVmmId, announcement.Vms.Count, receiver.TotalBytes, announcement.Vms.Count(v => !v.IsSealed));
            return receiver;
        }
    }

    public bool TryGetReceiver(Guid operationId, [NotNullWhen(true)] out Receiver? receiver) =>
        _receivers.TryGetValue(operationId, out receiver);

    public bool TryGetAnnounced(Guid operationId, [NotNullWhen(true)] out PendingTransferAnnounced? announcement) =>
        _announced.TryGetValue(operationId, out announcement);

    /// <summary>
    /// Admits a push of an operation announced to this agent (see <see cref="Receiver.AdmitAsync"/>); the first admitted
    /// stream also starts the relay to this agent's children, fed from the spools as they grow, and a stream admitted after
    /// every forwarder of the relay ended starts them again.
    /// </summary>
    public async Task<Admission> AdmitAsync(string operationId, string senderVmmId, string receiverVmmId, string token, int stripe, CancellationToken callCancelled)
    {
        if (!Guid.TryParse(operationId, out var id) || !_receivers.TryGetValue(id, out var receiver))
        {
            return Admission.Refused(new ReceiveOutcome(ReceiveVerdict.Refused, $"operation {operationId} was not announced to {VmmId}"));
        }

        var admission = await receiver.AdmitAsync(senderVmmId, receiverVmmId, token, stripe, callCancelled);
        if (admission.Outcome.IsDone)
        {
            lock (_gate)
            {
                if (!_forwarding.TryGetValue(id, out var forwarding))
                {
                    // Pipelined: the children are fed from the spools while the parent is still sending.
                    FollowAsRelay(receiver);
                }
                else if (forwarding.RestartIfIdle())
                {
                    // A transfer started again reaches this relay after its own forwarders ended: its children re-verify too.
                    _logger.LogInformation("Relaying operation {OperationId} from {VmmId} again", id, VmmId);
                }
            }
        }

        return admission;
    }

    /// <summary>
    /// As the root: starts one forwarder per child, each reading the VMM's images; when every forwarder of an earlier start
    /// ended, starts them all again (children that hold everything re-verify and report at once); while one runs, does
    /// nothing. False for an operation this agent never announced.
    /// </summary>
    public bool StartTransfer(Guid operationId)
    {
        lock (_gate)
        {
            if (!_announced.TryGetValue(operationId, out var announcement))
            {
                return false;
            }

            if (_forwarding.TryGetValue(operationId, out var forwarding))
            {
                if (forwarding.RestartIfIdle())
                {
                    _logger.LogInformation("Started the finished transfer of operation {OperationId} from {VmmId} again", operationId, VmmId);
                }

                return true;
            }

            var layout = StripeLayout.Of(announcement);
            forwarding = new Forwarding(VmmId, layout.Stripes, (current, feed) => ForwardAsync(current, feed, layout, (stripe, _) => Task.FromResult(OpenRootSources(current, layout, stripe))));
            _forwarding[operationId] = forwarding;
            forwarding.Follow(announcement);
            return true;
        }
    }

    /// <summary>Completes when every forwarder of the operation running now ended (successfully or not); for the runtime and tests.</summary>
    public Task ForwardingCompletion(Guid operationId) =>
        _forwarding.TryGetValue(operationId, out var forwarding) ? forwarding.Completion : Task.CompletedTask;

    /// <summary>Bytes this agent pushed to <paramref name="childVmmId"/> for the operation, over every stream to it.</summary>
    public long BytesSentTo(Guid operationId, string childVmmId) =>
        _forwarding.TryGetValue(operationId, out var forwarding) ? forwarding.BytesSentTo(childVmmId) : 0;

    /// <summary>
    /// Reloads the receives an earlier run of this agent left in its work directory (see <see cref="Receiver.LoadAsync"/>),
    /// so pushes of those operations are admitted again; publishes nothing yet (<see cref="ResumeReceivesAsync"/> does,
    /// once the bus runs). Deletes what cannot be resumed: a directory without a record, a receive with no activity for
    /// <see cref="TransferSettings.AbandonedReceiveAfter"/>, one whose record cannot be read.
    /// </summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        foreach (var directory in Directory.EnumerateDirectories(_receiveDirectory))
        {
            var name = Path.GetFileName(directory);
            ReceiveJournal.DeleteLeftovers(directory);
            string? discard = null;
            try
            {
                if (!Guid.TryParseExact(name, "N", out var operationId))
                {
                    discard = "it is named after no operation";
                }
                else if (new ReceiveJournal(directory).Read() is not var (_, _, lastActivity))
                {
                    discard = "it holds no receive record (the agent stopped before it wrote one)";
                }
                else if (_timeProvider.GetUtcNow() - lastActivity > Settings.AbandonedReceiveAfter)
                {
                    discard = $"nothing happened to it since {lastActivity:O}, longer than Agent:AbandonedReceiveAfter ({Settings.AbandonedReceiveAfter})";
                }
                else if (await Receiver.LoadAsync(VmmId, directory, Vmm, _events, Settings, _timeProvider, _loggerFactory.CreateLogger<Receiver>(), cancellationToken) is { } receiver)
                {
                    _receivers[operationId] = receiver;
                    _reloaded.Add(receiver);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException or NotSupportedException)
            {
                discard = $"it cannot be resumed: {e.Message}";
            }

            if (discard is not null)
            {
                _logger.LogWarning("Deleted the receive directory {Directory} of {VmmId}: {Reason}", directory, VmmId, discard);
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>
    /// Puts the reloaded receives back to work once the bus runs: an unfinished one is reported (<see cref="ReceiveResumed"/>)
    /// and waits for its parent; one verified but not adopted before the stop is adopted now; every one feeds its children
    /// again (children that hold everything re-verify at once).
    /// </summary>
    public async Task ResumeReceivesAsync()
    {
        List<Receiver> reloaded;
        lock (_gate)
        {
            reloaded = [.. _reloaded];
            _reloaded.Clear();
        }

        foreach (var receiver in reloaded)
        {
            if (!receiver.AllVerified)
            {
                receiver.AwaitParent();
                _logger.LogInformation(
                    "Resumed the receive of operation {OperationId} on {VmmId} at {BytesReceived} bytes; waiting for {ParentVmmId}",
                    receiver.OperationId, VmmId, receiver.BytesReceived, receiver.ParentVmmId);
                await _events.PublishQuietlyAsync(new ReceiveResumed(receiver.OperationId, VmmId, receiver.BytesReceived), _logger, VmmId, _stopping.Token);
            }
            else if (!receiver.Received.IsCompleted)
            {
                await receiver.AdoptIfVerifiedAsync();
            }

            lock (_gate)
            {
                if (receiver.ParentVmmId is not null && _receivers.TryGetValue(receiver.OperationId, out var current) && current == receiver)
                {
                    FollowAsRelay(receiver);
                }
            }
        }
    }

    /// <summary>
    /// Ends this agent's part in an operation (cancelled, or finished): stops its forwarders and its receive, deletes the
    /// receive's spools and state, and forgets the operation, so a late announcement of it prepares nothing. With
    /// <paramref name="discardCopies"/>, the copies this agent adopted for it and never resumed are discarded too; otherwise
    /// verified copies stay with the VMM. Returns the VMs discarded.
    /// </summary>
    public async Task<IReadOnlyList<string>> EndAsync(Guid operationId, bool discardCopies, string reason, CancellationToken cancellationToken)
    {
        Forwarding? forwarding;
        Receiver? receiver;
        lock (_gate)
        {
            _ended.Add(operationId);
            _announced.TryRemove(operationId, out _);
            _forwarding.TryRemove(operationId, out forwarding);
            _receivers.TryRemove(operationId, out receiver);
            _rootStripes.TryRemove(operationId, out _);
        }

        if (forwarding is not null)
        {
            forwarding.Stop(reason);

            // The forwarders let go of the spools before they are deleted.
            await forwarding.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return receiver is null ? [] : await receiver.EndAsync(discardCopies, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var forwarding in _forwarding.Values)
        {
            forwarding.Stop("the agent is stopping");
        }

        try
        {
            await Task.WhenAll(_forwarding.Values.Select(f => f.Completion)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception)
        {
            // Forwarders report their own failures; stopping only waits for them to let go of their files.
        }

        foreach (var receiver in _receivers.Values)
        {
            await receiver.DisposeAsync();
        }

        _receivers.Clear();
        _stopping.Dispose();
    }

    /// <summary>
    /// A receiver's forwarders follow its newest tree: started the first time (fed from its spools, or from the VMM's
    /// images once it adopted them), stopped when the tree leaves this agent out. Called under <see cref="_gate"/>.
    /// </summary>
    private void FollowAsRelay(Receiver receiver)
    {
        var announcement = receiver.Announcement;
        if (StripeLayout.ParentOf(announcement.Tree, VmmId, 0) is null)
        {
            if (_forwarding.TryGetValue(receiver.OperationId, out var left))
            {
                left.Stop($"tree version {announcement.Tree.Version} leaves {VmmId} out");
            }

            return;
        }

        if (!_forwarding.TryGetValue(receiver.OperationId, out var forwarding))
        {
            forwarding = new Forwarding(VmmId, receiver.Layout.Stripes, (current, feed) => ForwardAsync(current, feed, receiver.Layout, receiver.OpenSourcesAsync));
            _forwarding[receiver.OperationId] = forwarding;
        }

        forwarding.Follow(announcement);
    }

    /// <summary>
    /// Opens the connections to this agent's children in <paramref name="announcement"/>'s tree in the background, so each
    /// stream starts without a handshake once the first chunk is ready, instead of one hop after another.
    /// </summary>
    private void ConnectAhead(PendingTransferAnnounced announcement)
    {
        var stopping = _stopping.Token;
        var children = StripeLayout.ChildrenInEveryStripe(announcement.Tree, VmmId, StripeLayout.Of(announcement).Stripes)
            .Select(c => c.Child)
            .DistinctBy(c => c.VmmId);
        foreach (var child in children)
        {
            _ = ConnectAheadAsync(announcement.OperationId, child, stopping);
        }
    }

    private async Task ConnectAheadAsync(Guid operationId, TreeNode child, CancellationToken stopping)
    {
        try
        {
            if (await _channels.ConnectAheadAsync(child.GrpcEndpoint, child.VmmId, stopping))
            {
                _logger.LogInformation("Connected to {ChildVmmId} at {Endpoint} ahead of operation {OperationId}", child.VmmId, child.GrpcEndpoint, operationId);
            }
        }
        catch (ObjectDisposedException)
        {
            // The agent stopped meanwhile.
        }
    }

    /// <summary>
    /// What the root pushes of <paramref name="stripe"/>: the VMM's images, or in a striped operation a view of each
    /// image's stripe (<see cref="RootStripes"/>, one per operation).
    /// </summary>
    private IReadOnlyList<ImageSource> OpenRootSources(PendingTransferAnnounced announcement, StripeLayout layout, int stripe) =>
        layout.IsStriped
            ? _rootStripes.GetOrAdd(announcement.OperationId, _ => new RootStripes(Vmm, announcement.Vms, layout)).Open(stripe)
            : announcement.Vms.Select(vm => (ImageSource)VmmImageSource.Of(Vmm, vm.VmId)).ToList();

    private async Task ForwardAsync(
        PendingTransferAnnounced announcement,
        ChildFeed feed,
        StripeLayout layout,
        Func<int, CancellationToken, Task<IReadOnlyList<ImageSource>>> openSources)
    {
        await Task.Yield();
        var child = feed.Child;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, feed.Stopping);
        IReadOnlyList<ImageSource> sources = [];
        try
        {
            sources = await openSources(feed.Stripe, stop.Token);
            // A stripe's share of each image ends where its source ends and is sealed by it (the root's digest of it).
            var vms = layout.IsStriped ? announcement.Vms.Select(v => VmImage.Unsealed(v.VmId, v.Definition)).ToList() : announcement.Vms;
            var target = new ForwardTarget(announcement.OperationId, announcement.Token, VmmId, child, vms, announcement.ChunkSizeBytes, feed.Stripe);
            var forwarder = new ChunkForwarder(target, sources, _channels.For(child.GrpcEndpoint, child.VmmId), _loggerFactory.CreateLogger<ChunkForwarder>(), _timeProvider)
            {
                RetryDelays = Settings.RetryDelays,
                GracePeriod = Settings.ChildGracePeriod,
                RateLimit = _sendLimit,
                Feed = feed,
            };
            feed.Forwarder = forwarder;
            await forwarder.RunAsync(stop.Token);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            _logger.LogInformation(
                "Stopped forwarding operation {OperationId} to {ChildVmmId}: {Reason}",
                announcement.OperationId, child.VmmId, feed.StopReason ?? "the agent is stopping");
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
