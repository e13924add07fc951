using MassTransit;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Hosting;

/// <summary>
/// One hosted agent (one host, one VMM): its work directory, the <see cref="AgentNode"/> it runs there, and its
/// heartbeats. Its commands arrive on its own queue (<c>agent-{vmmId}</c>) through the agent's consumers.
/// </summary>
public sealed class AgentHost : IHostedLifecycleService, IAsyncDisposable
{
    private readonly AgentNodeFactory _nodes;
    private readonly IBus _bus;
    private readonly TimeProvider _timeProvider;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<AgentHost> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<AgentNode> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task<AgentNode>? _startup;
    private AgentNode? _node;
    private Task _heartbeats = Task.CompletedTask;

    public AgentHost(AgentOptions options, AgentNodeFactory nodes, IBus bus, TimeProvider timeProvider, IHostApplicationLifetime lifetime, ILogger<AgentHost> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.VmmId);
        Options = options;
        _nodes = nodes;
        _bus = bus;
        _timeProvider = timeProvider;
        _lifetime = lifetime;
        _logger = logger;
        // Stable across restarts, so a restarted agent finds its receives.
        WorkDirectory = string.IsNullOrWhiteSpace(options.WorkDirectory)
            ? Path.Combine(Path.GetTempPath(), "treecast-agent", options.VmmId)
            : Path.GetFullPath(options.WorkDirectory);
        // Whoever asks observes the outcome; a start that failed nobody waits for must not surface as unobserved.
        _ready.Task.ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    public string VmmId => Options.VmmId;

    public AgentOptions Options { get; }

    public string WorkDirectory { get; }

    public AgentNode Node => _node ?? throw NotStarted();

    public IVmm Vmm => Node.Vmm;

    /// <summary>The endpoint other agents push to, as heartbeats advertise it.</summary>
    public string GrpcEndpoint => Node.GrpcEndpoint;

    /// <summary>Completes when the agent serves gRPC and sends heartbeats.</summary>
    public Task Ready => _ready.Task;

    /// <summary>The node once the agent is ready: a command that arrives while the agent starts waits for it.</summary>
    public Task<AgentNode> NodeAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Builds the node (VMM, transfers, gRPC server) in the background, so many agents in one process start together.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _startup = Task.Run(() => _nodes.StartAsync(Options, WorkDirectory, new BusEventSink(_bus), cancellationToken: cancellationToken), cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>After every hosted service started (the bus among them): send heartbeats, so the fleet learns of the agent.</summary>
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        try
        {
            _node = await (_startup ?? throw NotStarted());
            _node.Vmm.WorkloadCompleted += OnWorkloadCompleted;

            // The first heartbeat goes out before any resumed receive is reported: an operation that takes this agent
            // back asks topology for a tree with it, and topology must have heard it by then (heartbeats and that
            // request reach topology's one queue in this order). So it is awaited until the bus has connected and the
            // broker confirmed it, however long a slow start takes: given up on at the heartbeat's bound, it would go
            // out after the reports it must precede, and the agent would say it is ready before the fleet can hear it.
            await PublishHeartbeatAsync(_node, Timeout.InfiniteTimeSpan);
            await _node.ResumeReceivesAsync();
            _heartbeats = SendHeartbeatsAsync(_node, _stopping.Token);
            MessageWarmUp.Run();
            _ = _node.CallOwnEndpointAsync(_stopping.Token);
            _logger.LogInformation(
                "Agent {VmmId} ready at {GrpcEndpoint} ({Location}) with {VmCount} VMs, listening on {Queue}",
                VmmId, _node.GrpcEndpoint, Options.Location, _node.Vmm.Vms.Count, Addresses.AgentQueue(VmmId));
            _ready.TrySetResult(_node);
        }
        catch (WorkDirectoryInUseException e)
        {
            // One line that says what to do, not a stack trace: the process stops with exit code 2.
            _logger.LogCritical("{Refusal}", e.Message);
            _ready.TrySetException(e);
            Environment.ExitCode = 2;
            _lifetime.StopApplication();
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
        if (_node is not null)
        {
            _node.Vmm.WorkloadCompleted -= OnWorkloadCompleted;
        }

        await _heartbeats;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_startup is not null)
        {
            await Task.WhenAny(_startup);
            if (_startup.IsCompletedSuccessfully)
            {
                await _startup.Result.DisposeAsync();
            }
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops the agent; its work directory stays (receives, images), for the agent to resume from when it starts again.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _ready.TrySetCanceled();
        _stopping.Dispose();
    }

    private void OnWorkloadCompleted(string workloadId)
    {
        _logger.LogInformation("Workload {WorkloadId} completed on {VmmId}", workloadId, VmmId);
        // The deadline decision rests on it: kept trying until the bus takes it.
        _ = new BusEventSink(_bus).PublishQuietlyAsync(new WorkloadCompleted(workloadId, VmmId, _timeProvider.GetUtcNow()), _logger, VmmId, _stopping.Token);
    }

    private async Task SendHeartbeatsAsync(AgentNode node, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Options.HeartbeatInterval, _timeProvider);
        while (await WaitQuietlyAsync(timer, cancellationToken))
        {
            await PublishHeartbeatAsync(node);
        }
    }

    private Task PublishHeartbeatAsync(AgentNode node, TimeSpan? limit = null)
    {
        var vms = node.Vmm.Vms;
        return PublishQuietlyAsync(limit ?? BoundedPublish.LimitFor(Options.HeartbeatInterval), new VmmHeartbeat(
            VmmId,
            node.GrpcEndpoint,
            Options.Location,
            vms.Select(v => v.VmId).ToList(),
            _timeProvider.GetUtcNow(),
            Options.HeartbeatInterval,
            vms.Select(v => new VmSummary(v.VmId, v.State, v.Bytes, v.Sha256, v.MacAddress)).ToList()));
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

    private async Task PublishQuietlyAsync<T>(TimeSpan limit, T message)
        where T : class
    {
        try
        {
            if (!await BoundedPublish.WithinAsync(_bus.Publish(message, _stopping.Token), limit, _timeProvider, _stopping.Token))
            {
                _logger.LogWarning(
                    "Agent {VmmId} stopped waiting for {MessageType} to be published after {Limit} (a publish the broker never confirmed); the next one goes out at the next tick",
                    VmmId, typeof(T).Name, limit);
            }
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
