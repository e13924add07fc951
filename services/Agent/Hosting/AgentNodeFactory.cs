using Grpc.AspNetCore.Server;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;

namespace Treecast.Agent.Hosting;

/// <summary>
/// Builds an <see cref="AgentNode"/> from an agent's options on a work directory: takes the directory (exclusively),
/// reclaims what a crash left, creates the VMM its options name, reloads the receives an earlier run left, and starts the
/// gRPC server on the port the agent had (when <see cref="AgentOptions.GrpcPort"/> is 0).
/// </summary>
public sealed class AgentNodeFactory(IVmmFactory vmms, GrpcChannelPool channels, TimeProvider timeProvider, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<AgentNodeFactory>();

    /// <summary>The transfer settings of a node (tests shorten the waits).</summary>
    public Func<AgentOptions, TransferSettings> Settings { get; init; } = TransferSettings.From;

    /// <param name="configureGrpc">Adds to the gRPC server's options (tests add interceptors).</param>
    public async Task<AgentNode> StartAsync(
        AgentOptions options,
        string workDirectory,
        IEventSink events,
        Action<GrpcServiceOptions>? configureGrpc = null,
        CancellationToken cancellationToken = default)
    {
        var directory = AgentWorkDirectory.Acquire(workDirectory, options.VmmId);
        IVmm? vmm = null;
        TransferEngine? transfers = null;
        try
        {
            ReclaimLeftovers(directory, options.VmmId);
            vmm = vmms.Create(options, directory.Vms);
            transfers = new TransferEngine(options.VmmId, vmm, directory.Receives, events, channels, Settings(options), timeProvider, loggerFactory);
            await transfers.ReloadAsync(cancellationToken);
            var server = await StartServerAsync(options, directory, transfers, configureGrpc, cancellationToken);
            return new AgentNode(options, directory, vmm, transfers, server, events, loggerFactory.CreateLogger<AgentNode>());
        }
        catch
        {
            if (transfers is not null)
            {
                await transfers.DisposeAsync();
            }

            if (vmm is not null)
            {
                await vmm.DisposeAsync();
            }

            directory.Dispose();
            throw;
        }
    }

    /// <summary>Binds the configured port, or with 0 the one this agent had before (its parent retries that endpoint), or else any free one.</summary>
    private async Task<TransferServer> StartServerAsync(
        AgentOptions options, AgentWorkDirectory directory, TransferEngine transfers, Action<GrpcServiceOptions>? configureGrpc, CancellationToken cancellationToken)
    {
        if (options.GrpcPort != 0)
        {
            return await TransferServer.StartAsync(transfers, options.BindAddress, options.GrpcPort, loggerFactory, configureGrpc, cancellationToken);
        }

        TransferServer? server = null;
        if (directory.RememberedPort is { } remembered)
        {
            try
            {
                server = await TransferServer.StartAsync(transfers, options.BindAddress, remembered, loggerFactory, configureGrpc, cancellationToken);
            }
            catch (IOException e)
            {
                _logger.LogWarning("Agent {VmmId} could not bind port {Port} it had before ({Reason}); binding a free one", options.VmmId, remembered, e.Message);
            }
        }

        server ??= await TransferServer.StartAsync(transfers, options.BindAddress, 0, loggerFactory, configureGrpc, cancellationToken);
        directory.RememberPort(server.Port);
        return server;
    }

    /// <summary>What a crash left outside the VMM's and the receives' own directories (the drivers and receives reclaim theirs).</summary>
    private void ReclaimLeftovers(AgentWorkDirectory directory, string vmmId)
    {
        // The spool directory of agents before receives survived restarts: nothing in it can be resumed.
        var legacySpools = Path.Combine(directory.Path, "spool");
        if (Directory.Exists(legacySpools))
        {
            Directory.Delete(legacySpools, recursive: true);
            _logger.LogInformation("Reclaimed the old spool directory {Directory} of {VmmId}", legacySpools, vmmId);
        }
    }
}
