using System.Diagnostics;
using Treecast.Contracts;
using Treecast.Security;

namespace Treecast.Agent.Tests.Support;

/// <summary>
/// One relay hop on loopback with the real transfer engine: a root holding one image, a relay and one or more leaves
/// (the relay's children), each a <see cref="TestAgent"/> on its own gRPC server (mutual TLS with certificates of a CA
/// made here, or cleartext). Shared by the opt-in relay test and <c>bench/</c> (the loopback benchmark).
/// </summary>
public sealed class LoopbackRelay : IAsyncDisposable
{
    public const string ImageVmId = "root-vm-0";

    private readonly RecordingEventSink _events = new();

    private LoopbackRelay(string workDirectory) => WorkDirectory = workDirectory;

    public string WorkDirectory { get; }

    public TestAgent Root { get; private set; } = null!;

    public TestAgent Relay { get; private set; } = null!;

    /// <summary>The first of <see cref="Leaves"/>.</summary>
    public TestAgent Leaf => Leaves[0];

    /// <summary>The relay's children.</summary>
    public IReadOnlyList<TestAgent> Leaves { get; private set; } = [];

    /// <summary>The root's image file (random bytes, written before any timing), for a comparison that sends the same bytes.</summary>
    public string ImagePath => Root.Vmm.ImagePath(ImageVmId);

    /// <param name="workDirectory">An empty folder for the three agents' work directories; the caller deletes it.</param>
    /// <param name="children">How many leaves the relay feeds (each its own stream, at its own pace).</param>
    public static async Task<LoopbackRelay> StartAsync(string workDirectory, long imageBytes, bool plaintext, int children = 1)
    {
        var authority = plaintext ? null : FleetCertificateAuthority.Create("Treecast loopback relay CA", TimeSpan.FromDays(1));
        AgentCredentials? CredentialsOf(string vmmId) => authority?.IssueCredentials(vmmId, ["127.0.0.1", "localhost"]);

        var relay = new LoopbackRelay(workDirectory);
        relay.Root = await TestAgent.StartAsync("root", workDirectory, relay._events, CredentialsOf("root"), [(ImageVmId, imageBytes)]);
        relay.Relay = await TestAgent.StartAsync("relay", workDirectory, relay._events, CredentialsOf("relay"));
        var leaves = new List<TestAgent>();
        for (var i = 0; i < children; i++)
        {
            var vmmId = children == 1 ? "leaf" : $"leaf-{i + 1}";
            leaves.Add(await TestAgent.StartAsync(vmmId, workDirectory, relay._events, CredentialsOf(vmmId)));
        }

        relay.Leaves = leaves;
        return relay;
    }

    /// <summary>
    /// Announces a new operation, streams the image root → relay → leaves, and waits until every leaf holds a verified
    /// copy; then ends the operation everywhere (spools and copies deleted), so every transfer starts with none on disk.
    /// </summary>
    public async Task<RelayTiming> TransferAsync(int chunkSizeBytes, TimeSpan timeout)
    {
        var operationId = Guid.NewGuid();
        var tree = new VmmTree(1, Root.VmmId, 2, [Root.Node(null), Relay.Node(Root.VmmId), .. Leaves.Select(l => l.Node(Relay.VmmId))]);
        var announced = Root.Engine.Announce(
            new AnnouncePendingTransfer(operationId, Root.VmmId, tree, Root.Vmm.Images, chunkSizeBytes, BroadcastMode.Broadcast));
        Relay.Engine.Expect(announced);
        foreach (var leaf in Leaves)
        {
            leaf.Engine.Expect(announced);
        }

        using var process = Process.GetCurrentProcess();
        var peak = new PeakResidentMemory();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        Root.Engine.StartTransfer(operationId);
        await _events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == Relay.VmmId, timeout);
        var relayDone = watch.Elapsed;
        foreach (var leaf in Leaves)
        {
            await _events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == leaf.VmmId, timeout);
        }

        var leafDone = watch.Elapsed;
        process.Refresh();
        var timing = new RelayTiming(relayDone, leafDone, process.TotalProcessorTime - cpu, peak.Bytes);
        foreach (var agent in new[] { Root, Relay }.Concat(Leaves))
        {
            await agent.Engine.EndAsync(operationId, discardCopies: true, "the benchmark's transfer is over", CancellationToken.None);
        }

        return timing;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Leaves.Concat([Relay, Root]).Where(a => a is not null))
        {
            await agent.DisposeAsync();
        }
    }
}

/// <summary>
/// How long a relayed transfer took to verify on the relay and on the (last) leaf, the process CPU time it used, and the
/// process's peak resident memory meanwhile (null where the platform does not tell).
/// </summary>
public sealed record RelayTiming(TimeSpan RelayVerified, TimeSpan LeafVerified, TimeSpan ProcessCpu, long? PeakResidentBytes = null);
