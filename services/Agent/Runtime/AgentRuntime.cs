using MassTransit;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Runtime;

/// <summary>
/// One hosted agent: its VMM, its own gRPC transfer server, its queue on the process's bus (bound to this
/// instance, since several agents may share one process) and its heartbeats.
/// </summary>
public sealed class AgentRuntime : IHostedLifecycleService, IAsyncDisposable
{
    private readonly IBus _bus;
    private readonly IVmmFactory _vmmFactory;
    private readonly GrpcChannelPool _channels;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<AgentRuntime> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly bool _ownsWorkDirectory;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _startup;
    private IVmm? _vmm;
    private bool _vmmStopped;
    private TransferEngine? _transfers;
    private TransferServer? _server;
    private HostReceiveEndpointHandle? _endpoint;
    private Task _heartbeats = Task.CompletedTask;

    public AgentRuntime(
        AgentOptions options,
        IBus bus,
        IVmmFactory vmmFactory,
        GrpcChannelPool channels,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.VmmId);
        Options = options;
        _bus = bus;
        _vmmFactory = vmmFactory;
        _channels = channels;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<AgentRuntime>();
        _ownsWorkDirectory = string.IsNullOrWhiteSpace(options.WorkDirectory);
        WorkDirectory = _ownsWorkDirectory
            ? Path.Combine(Path.GetTempPath(), "treecast-agent", $"{options.VmmId}-{Guid.NewGuid():N}")
            : Path.GetFullPath(options.WorkDirectory!);
    }

    public string VmmId => Options.VmmId;

    public AgentOptions Options { get; }

    public string WorkDirectory { get; }

    public IVmm Vmm => _vmm ?? throw NotStarted();

    public TransferEngine Transfers => _transfers ?? throw NotStarted();

    /// <summary>The endpoint other agents push to, as heartbeats advertise it: <c>http://{AdvertisedHost}:{port}</c>.</summary>
    public string GrpcEndpoint => _server is { } server ? $"http://{Options.AdvertisedHost}:{server.Port}" : throw NotStarted();

    /// <summary>Completes when the agent serves gRPC, listens on its queue and sends heartbeats.</summary>
    public Task Ready => _ready.Task;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Creates the VMM and starts the gRPC server in the background, so many agents in one process start together.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _startup = Task.Run(() => StartTransferSideAsync(cancellationToken), cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>After every hosted service started (the bus among them): listen on the agent's queue and send heartbeats.</summary>
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await (_startup ?? throw NotStarted());
            _endpoint = _bus.ConnectReceiveEndpoint(Addresses.AgentQueue(VmmId), ConfigureEndpoint);
            await _endpoint.Ready.WaitAsync(cancellationToken);
            Vmm.WorkloadCompleted += OnWorkloadCompleted;
            _heartbeats = SendHeartbeatsAsync(_stopping.Token);
            _logger.LogInformation(
                "Agent {VmmId} ready at {GrpcEndpoint} ({Location}) with {VmCount} VMs, listening on {Queue}",
                VmmId, GrpcEndpoint, Options.Location, Vmm.Vms.Count, Addresses.AgentQueue(VmmId));
            _ready.TrySetResult();
        }
        catch (Exception e)
        {
            _ready.TrySetException(e);
            throw;
        }
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_vmm is not null)
        {
            _vmm.WorkloadCompleted -= OnWorkloadCompleted;
        }

        await _heartbeats;
        if (_endpoint is not null)
        {
            try
            {
                await _endpoint.StopAsync(cancellationToken);
            }
            catch (Exception e)
            {
                // The bus may have stopped first; the endpoint is gone with it.
                _logger.LogDebug(e, "Queue of agent {VmmId} was already stopped", VmmId);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_startup is not null)
        {
            await Task.WhenAny(_startup);
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }

        if (_transfers is not null)
        {
            await _transfers.DisposeAsync();
            _transfers = null;
        }

        // The VMM goes with the agent's stop, not only with its disposal: a QEMU VMM's VMs are processes that must
        // not outlive a host that stopped without being disposed. What it held stays readable (Vms) afterwards.
        await StopVmmAsync();
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);

        var leftover = _ownsWorkDirectory ? WorkDirectory : Path.Combine(WorkDirectory, "spool");
        try
        {
            if (Directory.Exists(leftover))
            {
                Directory.Delete(leftover, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not remove {Directory} of agent {VmmId}: {Reason}", leftover, VmmId, e.Message);
        }

        _stopping.Dispose();
    }

    private async Task StopVmmAsync()
    {
        if (_vmm is not null && !_vmmStopped)
        {
            _vmmStopped = true;
            await _vmm.DisposeAsync();
        }
    }

    private async Task StartTransferSideAsync(CancellationToken cancellationToken)
    {
        _vmm = _vmmFactory.Create(Options, Path.Combine(WorkDirectory, "vms"));
        _transfers = new TransferEngine(
            VmmId, _vmm, Path.Combine(WorkDirectory, "spool"), new BusEventSink(_bus), _channels, _timeProvider, _loggerFactory)
        {
            MaxUnsealedImageBytes = Options.MaxStreamedImageMiB * 1024 * 1024,
        };
        _server = await TransferServer.StartAsync(_transfers, Options.BindAddress, Options.GrpcPort, _loggerFactory, cancellationToken: cancellationToken);
    }

    private void ConfigureEndpoint(IReceiveEndpointConfigurator endpoint)
    {
        // Commands arrive only by Send to this agent's queue; events (announcements) reach every agent's queue.
        endpoint.ConfigureMessageTopology<PauseVms>(false);
        endpoint.ConfigureMessageTopology<AnnouncePendingTransfer>(false);
        endpoint.ConfigureMessageTopology<StartTransfer>(false);
        endpoint.ConfigureMessageTopology<ResumeVms>(false);
        endpoint.ConfigureMessageTopology<StartWorkload>(false);
        endpoint.UseMessageRetry(r => r.Intervals(100, 500, 1000));
        endpoint.Handler<PauseVms>(context => ForThisVmm(context.Message.VmmId, () => PauseAsync(context)));
        endpoint.Handler<AnnouncePendingTransfer>(context => ForThisVmm(context.Message.VmmId, () => AnnounceAsync(context)));
        endpoint.Handler<PendingTransferAnnounced>(PrepareToReceiveAsync);
        endpoint.Handler<StartTransfer>(context => ForThisVmm(context.Message.VmmId, () => StartTransferAsync(context)));
        endpoint.Handler<ResumeVms>(context => ForThisVmm(context.Message.VmmId, () => ResumeAsync(context)));
        endpoint.Handler<StartWorkload>(context => ForThisVmm(context.Message.VmmId, () => StartWorkloadAsync(context)));
    }

    private Task ForThisVmm(string vmmId, Func<Task> handle)
    {
        if (vmmId == VmmId)
        {
            return handle();
        }

        _logger.LogWarning("Agent {VmmId} ignored a command addressed to {TargetVmmId}", VmmId, vmmId);
        return Task.CompletedTask;
    }

    private async Task PauseAsync(ConsumeContext<PauseVms> context)
    {
        var command = context.Message;
        try
        {
            var images = await Vmm.PauseAllAsync(context.CancellationToken);
            _logger.LogInformation(
                "Paused {VmCount} VMs on {VmmId} for operation {OperationId}, {UnsealedCount} images still being saved",
                images.Count, VmmId, command.OperationId, images.Count(i => !i.IsSealed));
            await context.Publish(new VmsPaused(command.OperationId, VmmId, images));
            if (images.Any(i => !i.IsSealed))
            {
                // Announced before their streams ended: the sizes and digests follow when they do.
                _ = SealAsync(command.OperationId, images);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await StepFailedAsync(context, command.OperationId, OperationStep.Pause, e);
        }
    }

    private async Task SealAsync(Guid operationId, IReadOnlyList<VmImage> images)
    {
        try
        {
            var sealedImages = await Task.WhenAll(images.Select(i => i.IsSealed ? Task.FromResult(i) : Vmm.SealedImageAsync(i.VmId, _stopping.Token)));
            _logger.LogInformation(
                "Sealed {VmCount} images on {VmmId} for operation {OperationId}: {TotalBytes} bytes",
                sealedImages.Length, VmmId, operationId, sealedImages.Sum(i => i.Bytes));
            await PublishQuietlyAsync(new VmImagesSealed(operationId, VmmId, sealedImages));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The root's image is lost: nothing can be verified against it, so the whole operation fails.
            _logger.LogError("Step {Step} of operation {OperationId} failed on {VmmId}: {Reason}", OperationStep.Pause, operationId, VmmId, e.Message);
            await PublishQuietlyAsync(new OperationStepFailed(operationId, VmmId, OperationStep.Pause, e.Message));
        }
    }

    private async Task AnnounceAsync(ConsumeContext<AnnouncePendingTransfer> context)
    {
        var command = context.Message;
        try
        {
            var announcement = Transfers.Announce(command);
            _logger.LogInformation(
                "Announced operation {OperationId} from {VmmId}: {VmCount} VMs to {VmmCount} VMMs in chunks of {ChunkSizeBytes} bytes",
                command.OperationId, VmmId, command.Vms.Count, command.Tree.Nodes.Count - 1, announcement.ChunkSizeBytes);
            await context.Publish(announcement);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await StepFailedAsync(context, command.OperationId, OperationStep.Announce, e);
        }
    }

    private async Task PrepareToReceiveAsync(ConsumeContext<PendingTransferAnnounced> context)
    {
        var announcement = context.Message;
        if (announcement.RootVmmId == VmmId || announcement.Tree.Find(VmmId) is null)
        {
            return; // Every agent's queue hears every announcement; only the tree's non-root VMMs receive.
        }

        try
        {
            Transfers.Expect(announcement);
            await context.Publish(new ReadyToReceive(announcement.OperationId, VmmId));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await StepFailedAsync(context, announcement.OperationId, OperationStep.Receive, e);
        }
    }

    private async Task StartTransferAsync(ConsumeContext<StartTransfer> context)
    {
        var command = context.Message;
        if (!Transfers.StartTransfer(command.OperationId))
        {
            await context.Publish(new OperationStepFailed(
                command.OperationId, VmmId, OperationStep.Relay,
                $"Operation {command.OperationId} was never announced by {VmmId}; send AnnouncePendingTransfer to the root first."));
            return;
        }

        _logger.LogInformation("Started transfer of operation {OperationId} from {VmmId}", command.OperationId, VmmId);
    }

    private async Task ResumeAsync(ConsumeContext<ResumeVms> context)
    {
        var command = context.Message;
        try
        {
            IEnumerable<string> vmIds;
            if (command.IsRoot)
            {
                vmIds = Transfers.TryGetAnnounced(command.OperationId, out var announced)
                    ? announced.Vms.Select(v => v.VmId)
                    : Vmm.Vms.Select(v => v.VmId);
            }
            else if (Transfers.TryGetExpected(command.OperationId, out var transfer) && transfer.Received.IsCompletedSuccessfully)
            {
                vmIds = transfer.Announcement.Vms.Select(v => v.VmId);
            }
            else
            {
                throw new InvalidOperationException($"{VmmId} holds no verified copies of operation {command.OperationId} to resume.");
            }

            var copies = new List<VmCopy>();
            foreach (var vmId in vmIds)
            {
                // The copies join the network next to the originals, so they need addresses of their own.
                copies.Add(await Vmm.ResumeAsync(vmId, newIdentity: !command.IsRoot, context.CancellationToken));
            }

            _logger.LogInformation("Resumed {VmCount} VMs on {VmmId} for operation {OperationId}", copies.Count, VmmId, command.OperationId);
            await context.Publish(new VmsResumed(command.OperationId, VmmId, copies));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await StepFailedAsync(context, command.OperationId, OperationStep.Resume, e);
        }
    }

    private async Task StartWorkloadAsync(ConsumeContext<StartWorkload> context)
    {
        var command = context.Message;
        await Vmm.StartWorkloadAsync(command.WorkloadId, command.Work, context.CancellationToken);
        await context.Publish(new WorkloadStarted(command.WorkloadId, VmmId, _timeProvider.GetUtcNow()));
    }

    private void OnWorkloadCompleted(string workloadId)
    {
        _logger.LogInformation("Workload {WorkloadId} completed on {VmmId}", workloadId, VmmId);
        _ = PublishQuietlyAsync(new WorkloadCompleted(workloadId, VmmId, _timeProvider.GetUtcNow()));
    }

    private async Task StepFailedAsync(ConsumeContext context, Guid operationId, OperationStep step, Exception error)
    {
        _logger.LogError("Step {Step} of operation {OperationId} failed on {VmmId}: {Reason}", step, operationId, VmmId, error.Message);
        await context.Publish(new OperationStepFailed(operationId, VmmId, step, error.Message));
    }

    private async Task SendHeartbeatsAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Options.HeartbeatInterval, _timeProvider);
        do
        {
            await PublishQuietlyAsync(new VmmHeartbeat(
                VmmId, GrpcEndpoint, Options.Location, Vmm.Vms.Select(v => v.VmId).ToList(), _timeProvider.GetUtcNow(), Options.HeartbeatInterval));
        }
        while (await WaitQuietlyAsync(timer, cancellationToken));
    }

    private static async Task<bool> WaitQuietlyAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task PublishQuietlyAsync<T>(T message)
        where T : class
    {
        try
        {
            await _bus.Publish(message, _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A missed heartbeat is made up by the next one; the registry tolerates a few.
            _logger.LogWarning("Agent {VmmId} could not publish {MessageType}: {Reason}", VmmId, typeof(T).Name, e.Message);
        }
    }

    private InvalidOperationException NotStarted() => new($"Agent {VmmId} has not started yet.");
}
