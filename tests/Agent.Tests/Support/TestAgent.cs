using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Transfer;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Support;

/// <summary>One agent's transfer side on a real loopback gRPC server.</summary>
internal sealed class TestAgent : IAsyncDisposable
{
    private TestAgent(FileVmm vmm, TransferEngine engine, TransferServer server)
    {
        Vmm = vmm;
        Engine = engine;
        Server = server;
    }

    public string VmmId => Vmm.VmmId;

    public FileVmm Vmm { get; }

    public TransferEngine Engine { get; }

    public TransferServer Server { get; }

    public string Endpoint => $"http://127.0.0.1:{Server.Port}";

    public static async Task<TestAgent> StartAsync(
        string vmmId,
        string workDirectory,
        IEventSink events,
        GrpcChannelPool channels,
        IEnumerable<(string VmId, long Bytes)>? images = null,
        Action<GrpcServiceOptions>? configureGrpc = null,
        ILoggerFactory? loggerFactory = null,
        long maxUnsealedImageBytes = TransferLimits.DefaultMaxUnsealedImageBytes)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var vmm = new FileVmm(vmmId, Path.Combine(workDirectory, vmmId, "vms"), images);
        var engine = new TransferEngine(vmmId, vmm, Path.Combine(workDirectory, vmmId, "spool"), events, channels, TimeProvider.System, loggerFactory)
        {
            RetryDelays = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)],
            MaxUnsealedImageBytes = maxUnsealedImageBytes,
        };
        var server = await TransferServer.StartAsync(engine, "127.0.0.1", 0, loggerFactory, configureGrpc);
        return new TestAgent(vmm, engine, server);
    }

    public TreeNode Node(string? parentVmmId) => new(VmmId, parentVmmId, "site-a/pod-1/rack-1", Endpoint);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Engine.DisposeAsync();
        await Vmm.DisposeAsync();
    }
}
