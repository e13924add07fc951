using Grpc.AspNetCore.Server;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Treecast.Agent.Transfer;
using Treecast.Contracts;
using Treecast.Security;
using Treecast.TestSupport;

namespace Treecast.Agent.Tests.Support;

/// <summary>
/// Several test agents on loopback, a tree over them, and the events they publish. The agents speak mutual TLS with
/// certificates of a CA made for the cluster (<see cref="Certificates"/>), or cleartext when the cluster is made so.
/// </summary>
internal sealed class TransferCluster : IAsyncDisposable
{
    private readonly Dictionary<string, GrpcChannelPool> _clients = [];
    private readonly ILoggerFactory? _loggerFactory;
    private readonly Dictionary<string, TestAgent> _agents = [];
    private readonly Dictionary<string, string?> _parents = [];
    private readonly HashSet<string> _stopped = [];
    private readonly Dictionary<Guid, PendingTransferAnnounced> _announced = [];

    /// <param name="plaintext">Agents serve and push in cleartext (<c>Agent:Tls:AllowPlaintext</c>).</param>
    /// <param name="logs">Where the agents' log lines go, for a test that reads them.</param>
    public TransferCluster(bool plaintext = false, RecordedLogs? logs = null)
    {
        Plaintext = plaintext;
        _loggerFactory = logs?.Factory;
        WorkDirectory = Path.Combine(Path.GetTempPath(), "treecast-agent-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(WorkDirectory);
    }

    public string WorkDirectory { get; }

    public RecordingEventSink Events { get; } = new();

    public bool Plaintext { get; }

    /// <summary>The cluster's CA: every agent's credentials, and those of a test pushing by hand as one of them.</summary>
    public FleetCertificates Certificates { get; } = new();

    public TestAgent this[string vmmId] => _agents[vmmId];

    public string RootVmmId => _parents.Single(p => p.Value is null).Key;

    public async Task<TestAgent> AddAsync(
        string vmmId,
        string? parentVmmId,
        IEnumerable<(string VmId, long Bytes)>? images = null,
        Action<GrpcServiceOptions>? configureGrpc = null,
        long maxUnsealedImageBytes = TransferLimits.DefaultMaxUnsealedImageBytes,
        Func<TransferSettings, TransferSettings>? tune = null)
    {
        var agent = await TestAgent.StartAsync(vmmId, WorkDirectory, Events, CredentialsOf(vmmId), images, configureGrpc, _loggerFactory, maxUnsealedImageBytes: maxUnsealedImageBytes, tune: tune);
        _agents[vmmId] = agent;
        _parents[vmmId] = parentVmmId;
        return agent;
    }

    /// <summary>
    /// Starts a stopped agent again on its work directory (the same gRPC port, the receives it left); the test's
    /// <paramref name="configureGrpc"/> and <paramref name="tune"/> apply to the new node.
    /// </summary>
    public async Task<TestAgent> RestartAsync(
        string vmmId,
        Action<GrpcServiceOptions>? configureGrpc = null,
        Func<TransferSettings, TransferSettings>? tune = null)
    {
        Assert.Contains(vmmId, _stopped);
        var agent = await TestAgent.StartAsync(vmmId, WorkDirectory, Events, CredentialsOf(vmmId), configureGrpc: configureGrpc, loggerFactory: _loggerFactory, tune: tune);
        _agents[vmmId] = agent;
        _stopped.Remove(vmmId);
        return agent;
    }

    /// <summary>Stops an agent's node as a host going down would: its streams break, its files stay in its work directory.</summary>
    public async Task StopAsync(string vmmId)
    {
        _stopped.Add(vmmId);
        await _agents[vmmId].DisposeAsync();
    }

    /// <summary>The tree as the agents were added (version 1).</summary>
    public VmmTree Tree() => new(1, RootVmmId, 2, _parents.Select(p => _agents[p.Key].Node(p.Value)).ToList());

    /// <summary>A tree of the given version over the agents named, each with its parent (null for the root).</summary>
    public VmmTree Tree(long version, params (string VmmId, string? ParentVmmId)[] nodes) =>
        new(version, nodes.Single(n => n.ParentVmmId is null).VmmId, 2, nodes.Select(n => _agents[n.VmmId].Node(n.ParentVmmId)).ToList());

    /// <summary>
    /// The root announces (its images, or the manifest given, for instance unsealed images); every other agent prepares
    /// to receive, as the runtime does on the bus.
    /// </summary>
    public PendingTransferAnnounced Announce(Guid operationId, int chunkSizeBytes = 64 * 1024, IReadOnlyList<VmImage>? manifest = null)
    {
        var announced = Announce(operationId, Tree(), chunkSizeBytes, manifest);
        foreach (var agent in Live.Where(a => a.VmmId != RootVmmId))
        {
            Assert.True(agent.Engine.TryGetReceiver(operationId, out _), $"{agent.VmmId} prepared no receive");
        }

        return announced;
    }

    /// <summary>The root announces the operation with <paramref name="tree"/> (a newer version re-announces it); every live agent hears its slice.</summary>
    public PendingTransferAnnounced Announce(Guid operationId, VmmTree tree, int chunkSizeBytes = 64 * 1024, IReadOnlyList<VmImage>? manifest = null)
    {
        var root = _agents[tree.RootVmmId];
        manifest ??= _announced.TryGetValue(operationId, out var earlier) ? earlier.Vms : root.Vmm.Images;
        var announced = root.Engine.Announce(new AnnouncePendingTransfer(operationId, root.VmmId, tree, manifest, chunkSizeBytes, BroadcastMode.Broadcast));
        _announced[operationId] = announced;
        foreach (var agent in Live.Where(a => a.VmmId != root.VmmId))
        {
            // As the root's agent delivers it: each agent its own slice of the tree.
            agent.Engine.Expect(announced with { Tree = announced.Tree.SliceFor(agent.VmmId) });
        }

        return announced;
    }

    /// <summary>A channel to <paramref name="toVmmId"/> as <paramref name="asVmmId"/> would open it (its certificate), for a test that pushes by hand.</summary>
    public GrpcChannel Channel(string asVmmId, string toVmmId)
    {
        if (!_clients.TryGetValue(asVmmId, out var pool))
        {
            pool = new GrpcChannelPool(CredentialsOf(asVmmId), NullLogger<GrpcChannelPool>.Instance);
            _clients[asVmmId] = pool;
        }

        return pool.For(_agents[toVmmId].Endpoint, toVmmId);
    }

    public Task<VmsReceived> WaitForReceivedAsync(Guid operationId, string vmmId, TimeSpan? timeout = null) =>
        Events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == vmmId, timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Live)
        {
            await agent.DisposeAsync();
        }

        foreach (var pool in _clients.Values)
        {
            pool.Dispose();
        }
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private AgentCredentials? CredentialsOf(string vmmId) => Plaintext ? null : Certificates.For(vmmId);

    private IEnumerable<TestAgent> Live => _agents.Values.Where(a => !_stopped.Contains(a.VmmId)).ToList();
}
