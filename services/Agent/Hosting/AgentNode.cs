using System.Diagnostics;
using MassTransit;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;
using Treecast.Contracts;

namespace Treecast.Agent.Hosting;

/// <summary>
/// One agent's working parts on one work directory: its VMM, its transfer engine and the gRPC server other agents push
/// to. Built by <see cref="AgentNodeFactory"/>; an <see cref="AgentHost"/> owns one, and tests build them directly.
/// </summary>
public sealed class AgentNode : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly AgentWorkDirectory _workDirectory;
    private readonly GrpcChannelPool _channels;
    private readonly ILogger _logger;
    private int _disposed;

    internal AgentNode(
        AgentOptions options,
        AgentWorkDirectory workDirectory,
        IVmm vmm,
        TransferEngine transfers,
        GrpcChannelPool channels,
        TransferServer server,
        IEventSink events,
        ILogger logger)
    {
        _channels = channels;
        Options = options;
        _workDirectory = workDirectory;
        Vmm = vmm;
        Transfers = transfers;
        Server = server;
        Events = events;
        _logger = logger;
    }

    public string VmmId => Options.VmmId;

    public AgentOptions Options { get; }

    public string WorkDirectory => _workDirectory.Path;

    public IVmm Vmm { get; }

    public TransferEngine Transfers { get; }

    public TransferServer Server { get; }

    /// <summary>Where the node publishes what happens outside a consumer (the bus in an agent, a recorder in tests).</summary>
    public IEventSink Events { get; }

    /// <summary>
    /// The endpoint other agents push to, as heartbeats advertise it: <c>https://{AdvertisedHost}:{port}</c> (<c>http://</c>
    /// in cleartext), the port being <see cref="AgentOptions.AdvertisedPort"/> when set, else the one bound.
    /// </summary>
    public string GrpcEndpoint =>
        $"{(Server.IsTls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp)}://{Options.AdvertisedHost}:{(Options.AdvertisedPort > 0 ? Options.AdvertisedPort : Server.Port)}";

    /// <summary>The channels this agent pushes to its children on (with its own certificate).</summary>
    public GrpcChannelPool Channels => _channels;

    /// <summary>Cancelled when the node stops: background work of its consumers (waiting for a seal) ends with it.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// Calls this agent's own advertised endpoint once (<c>VmTransfer.Connect</c>, then a push of no operation that it
    /// refuses, over mutual TLS with its own certificate), after start: the first operation then finds the TLS, HTTP/2
    /// and gRPC code of both ends of a push compiled and warm (fresh agents on a busy machine took about a second to
    /// connect ahead to each child, so a chain's every hop started late), and an endpoint that does not lead back to
    /// this agent is reported before a parent finds out. True when the agent answered itself.
    /// </summary>
    public async Task<bool> CallOwnEndpointAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        string? failure;
        var pushWarmed = false;
        try
        {
            failure = await _channels.TryConnectAsync(GrpcEndpoint, VmmId, cancellationToken);

            // The push path too, which Connect does not reach: the first operation's every hop opens a push.
            pushWarmed = failure is null && await _channels.TryWarmPushAsync(GrpcEndpoint, VmmId, cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return false; // The agent stopped meanwhile.
        }

        if (failure is null)
        {
            _logger.LogInformation(
                "Agent {VmmId} answered a call to its own endpoint {GrpcEndpoint} in {ElapsedMs} ms (its push path warmed: {PushWarmed})",
                VmmId, GrpcEndpoint, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, pushWarmed);
            return true;
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning(
                "Agent {VmmId} could not call its own endpoint {GrpcEndpoint} ({Reason}): parents may not reach it either; check Agent:AdvertisedHost and Agent:AdvertisedPort",
                VmmId, GrpcEndpoint, failure);
        }

        return false;
    }

    /// <summary>
    /// The bus runs: reports the receives reloaded from the work directory and puts them back to work
    /// (<see cref="TransferEngine.ResumeReceivesAsync"/>).
    /// </summary>
    public Task ResumeReceivesAsync() => Transfers.ResumeReceivesAsync();

    /// <summary>A command of an operation failed on this VMM: one log line, and <see cref="OperationStepFailed"/> for the saga.</summary>
    public async Task StepFailedAsync(IPublishEndpoint publisher, Guid operationId, OperationStep step, Exception error)
    {
        _logger.LogError("Step {Step} of operation {OperationId} failed on {VmmId}: {Reason}", step, operationId, VmmId, error.Message);
        await publisher.Publish(new OperationStepFailed(operationId, VmmId, step, error.Message));
    }

    /// <summary>
    /// Stops the transfers (the receives record how far they got), the gRPC server and the VMM, and lets go of the work
    /// directory. The VMM goes with the node's stop: a QEMU VMM's VMs are processes
    /// that must not outlive it. What the VMM held stays readable (<see cref="IVmm.Vms"/>) afterwards.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            // The transfers first: they end the streams in flight, which the server's stop would otherwise wait out.
            await Transfers.DisposeAsync();
            _channels.Dispose();
            await Server.DisposeAsync();
        }
        finally
        {
            await Vmm.DisposeAsync();
            _workDirectory.Dispose();
            _stopping.Dispose();
        }
    }
}
