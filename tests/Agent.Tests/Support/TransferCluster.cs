using Grpc.AspNetCore.Server;
using Treecast.Agent.Transfer;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Support;

/// <summary>Several test agents on loopback, a tree over them, and the events they publish.</summary>
internal sealed class TransferCluster : IAsyncDisposable
{
    private readonly Dictionary<string, TestAgent> _agents = [];
    private readonly Dictionary<string, string?> _parents = [];

    public TransferCluster()
    {
        WorkDirectory = Path.Combine(Path.GetTempPath(), "treecast-agent-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(WorkDirectory);
    }

    public string WorkDirectory { get; }

    public RecordingEventSink Events { get; } = new();

    public GrpcChannelPool Channels { get; } = new();

    public TestAgent this[string vmmId] => _agents[vmmId];

    public string RootVmmId => _parents.Single(p => p.Value is null).Key;

    public async Task<TestAgent> AddAsync(
        string vmmId,
        string? parentVmmId,
        IEnumerable<(string VmId, long Bytes)>? images = null,
        Action<GrpcServiceOptions>? configureGrpc = null,
        long maxUnsealedImageBytes = TransferLimits.DefaultMaxUnsealedImageBytes)
    {
        var agent = await TestAgent.StartAsync(vmmId, WorkDirectory, Events, Channels, images, configureGrpc, maxUnsealedImageBytes: maxUnsealedImageBytes);
        _agents[vmmId] = agent;
        _parents[vmmId] = parentVmmId;
        return agent;
    }

    public VmmTree Tree() => new(1, RootVmmId, 2, _parents.Select(p => _agents[p.Key].Node(p.Value)).ToList());

    /// <summary>
    /// The root announces (its images, or the manifest given, for instance unsealed images); every other agent prepares
    /// to receive, as the runtime does on the bus.
    /// </summary>
    public PendingTransferAnnounced Announce(Guid operationId, int chunkSizeBytes = 64 * 1024, IReadOnlyList<VmImage>? manifest = null)
    {
        var root = _agents[RootVmmId];
        var announced = root.Engine.Announce(new AnnouncePendingTransfer(
            operationId, root.VmmId, Tree(), manifest ?? root.Vmm.Images, chunkSizeBytes, BroadcastMode.Broadcast));
        foreach (var agent in _agents.Values.Where(a => a.VmmId != root.VmmId))
        {
            Assert.NotNull(agent.Engine.Expect(announced));
        }

        return announced;
    }

    public Task<VmsReceived> WaitForReceivedAsync(Guid operationId, string vmmId, TimeSpan? timeout = null) =>
        Events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == vmmId, timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values)
        {
            await agent.DisposeAsync();
        }

        Channels.Dispose();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
