using Grpc.AspNetCore.Server;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;
using Treecast.Security;

namespace Treecast.Agent.Hosting;

/// <summary>
/// Builds an <see cref="AgentNode"/> from an agent's options on a work directory: takes the directory (exclusively),
/// reclaims what a crash left, creates the VMM its options name, reloads the receives an earlier run left, and starts the
/// gRPC server on the port the agent had (when <see cref="AgentOptions.GrpcPort"/> is 0), over mutual TLS with the
/// agent's credentials (<see cref="AgentOptions.Tls"/>), or in cleartext when they allow it, loudly.
/// </summary>
public sealed class AgentNodeFactory(IVmmFactory vmms, TimeProvider timeProvider, ILoggerFactory loggerFactory)
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
        GrpcChannelPool? channels = null;
        try
        {
            var credentials = options.Tls.Resolve(options.VmmId);
            ReclaimLeftovers(directory, options.VmmId);
            vmm = vmms.Create(options, directory.Vms);
            channels = new GrpcChannelPool(credentials, loggerFactory.CreateLogger<GrpcChannelPool>());
            transfers = new TransferEngine(options.VmmId, vmm, directory.Receives, events, channels, Settings(options), timeProvider, loggerFactory);
            await transfers.ReloadAsync(cancellationToken);
            var server = await StartServerAsync(options, directory, transfers, credentials, configureGrpc, cancellationToken);
            SaySecurity(options.VmmId, server, credentials);
            return new AgentNode(options, directory, vmm, transfers, channels, server, events, loggerFactory.CreateLogger<AgentNode>());
        }
        catch
        {
            if (transfers is not null)
            {
                await transfers.DisposeAsync();
            }

            channels?.Dispose();

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
        AgentOptions options,
        AgentWorkDirectory directory,
        TransferEngine transfers,
        AgentCredentials? credentials,
        Action<GrpcServiceOptions>? configureGrpc,
        CancellationToken cancellationToken)
    {
        if (options.GrpcPort != 0)
        {
            return await TransferServer.StartAsync(transfers, options.BindAddress, options.GrpcPort, credentials, loggerFactory, configureGrpc, cancellationToken);
        }

        TransferServer? server = null;
        if (directory.RememberedPort is { } remembered)
        {
            try
            {
                server = await TransferServer.StartAsync(transfers, options.BindAddress, remembered, credentials, loggerFactory, configureGrpc, cancellationToken);
            }
            catch (IOException e)
            {
                _logger.LogWarning("Agent {VmmId} could not bind port {Port} it had before ({Reason}); binding a free one", options.VmmId, remembered, e.Message);
            }
        }

        server ??= await TransferServer.StartAsync(transfers, options.BindAddress, 0, credentials, loggerFactory, configureGrpc, cancellationToken);
        directory.RememberPort(server.Port);
        return server;
    }

    private void SaySecurity(string vmmId, TransferServer server, AgentCredentials? credentials)
    {
        if (credentials is null)
        {
            _logger.LogWarning(
                "INSECURE: Agent:Tls:AllowPlaintext is true: agent {VmmId} serves and pushes VM images in cleartext and admits a push on the announced token alone; anyone who can reach port {Port} and read the token off the bus can push",
                vmmId, server.Port);
            return;
        }

        _logger.LogInformation(
            "Agent {VmmId} serves mutual TLS on port {Port} as {Subject} (valid until {NotAfter:yyyy-MM-dd}), trusting {CaCount} CAs",
            vmmId, server.Port, credentials.Certificate.Subject, credentials.Certificate.NotAfter.ToUniversalTime(), credentials.Trust.Authorities.Count);
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
