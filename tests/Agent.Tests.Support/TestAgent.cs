using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Hosting;
using Treecast.Agent.Transfer;
using Treecast.Contracts;
using Treecast.Security;

namespace Treecast.Agent.Tests.Support;

/// <summary>
/// One agent's node (a <see cref="FileVmm"/>, its transfer engine, a real loopback gRPC server: mutual TLS with
/// <c>credentials</c>, cleartext without), built by the production factory.
/// </summary>
public sealed class TestAgent : IAsyncDisposable
{
    private TestAgent(AgentNode node) => AgentNode = node;

    public AgentNode AgentNode { get; }

    public string VmmId => AgentNode.VmmId;

    public FileVmm Vmm => (FileVmm)AgentNode.Vmm;

    public TransferEngine Engine => AgentNode.Transfers;

    public TransferServer Server => AgentNode.Server;

    public string Endpoint => AgentNode.GrpcEndpoint;

    public static async Task<TestAgent> StartAsync(
        string vmmId,
        string workDirectory,
        IEventSink events,
        AgentCredentials? credentials,
        IEnumerable<(string VmId, long Bytes)>? images = null,
        Action<GrpcServiceOptions>? configureGrpc = null,
        ILoggerFactory? loggerFactory = null,
        long maxUnsealedImageBytes = TransferLimits.DefaultMaxUnsealedImageBytes,
        Func<TransferSettings, TransferSettings>? tune = null)
    {
        var factory = new AgentNodeFactory(new FileVmmFactory(images), TimeProvider.System, loggerFactory ?? NullLoggerFactory.Instance)
        {
            Settings = options => (tune ?? (s => s))(TransferSettings.From(options) with
            {
                RetryDelays = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)],
                MaxUnsealedImageBytes = maxUnsealedImageBytes,
                ParentGracePeriod = TimeSpan.FromSeconds(1),
            }),
        };
        var options = new AgentOptions
        {
            VmmId = vmmId,
            Location = "site-a/pod-1/rack-1",
            GrpcPort = 0,
            Tls = credentials is null ? new AgentTlsOptions { AllowPlaintext = true } : new AgentTlsOptions { Credentials = credentials },
        };
        var node = await factory.StartAsync(options, Path.Combine(workDirectory, vmmId), events, configureGrpc);
        await node.ResumeReceivesAsync();
        return new TestAgent(node);
    }

    public TreeNode Node(string? parentVmmId) => new(VmmId, parentVmmId, "site-a/pod-1/rack-1", Endpoint);

    public ValueTask DisposeAsync() => AgentNode.DisposeAsync();
}
