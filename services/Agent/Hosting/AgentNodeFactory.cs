using Grpc.AspNetCore.Server;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;

namespace Treecast.Agent.Hosting;

/// <summary>Builds an <see cref="AgentNode"/> from an agent's options on a work directory: the VMM its options name, then the transfer engine and its gRPC server.</summary>
public sealed class AgentNodeFactory(IVmmFactory vmms, GrpcChannelPool channels, TimeProvider timeProvider, ILoggerFactory loggerFactory)
{
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
        var vmm = vmms.Create(options, Path.Combine(workDirectory, "vms"));
        TransferEngine? transfers = null;
        try
        {
            transfers = new TransferEngine(
                options.VmmId, vmm, Path.Combine(workDirectory, "receives"), events, channels, Settings(options), timeProvider, loggerFactory);
            var server = await TransferServer.StartAsync(transfers, options.BindAddress, options.GrpcPort, loggerFactory, configureGrpc, cancellationToken);
            return new AgentNode(options, workDirectory, vmm, transfers, server, events, loggerFactory.CreateLogger<AgentNode>());
        }
        catch
        {
            if (transfers is not null)
            {
                await transfers.DisposeAsync();
            }

            await vmm.DisposeAsync();
            throw;
        }
    }
}
