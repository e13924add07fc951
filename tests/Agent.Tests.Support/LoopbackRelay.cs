using System.Diagnostics;
using Treecast.Contracts;
using Treecast.Security;

namespace Treecast.Agent.Tests.Support;

/// <summary>
/// One relay hop on loopback with the real transfer engine: a root holding one image, a relay and a leaf, each a
/// <see cref="TestAgent"/> on its own gRPC server (mutual TLS with certificates of a CA made here, or cleartext).
/// Shared by the opt-in relay test and <c>bench/</c> (the loopback benchmark).
/// </summary>
public sealed class LoopbackRelay : IAsyncDisposable
{
    public const string ImageVmId = "root-vm-0";

    private readonly RecordingEventSink _events = new();

    private LoopbackRelay(string workDirectory) => WorkDirectory = workDirectory;

    public string WorkDirectory { get; }

    public TestAgent Root { get; private set; } = null!;

    public TestAgent Relay { get; private set; } = null!;

    public TestAgent Leaf { get; private set; } = null!;

    /// <summary>The root's image file (random bytes, written before any timing), for a comparison that sends the same bytes.</summary>
    public string ImagePath => Root.Vmm.ImagePath(ImageVmId);

    /// <param name="workDirectory">An empty folder for the three agents' work directories; the caller deletes it.</param>
    public static async Task<LoopbackRelay> StartAsync(string workDirectory, long imageBytes, bool plaintext)
    {
        var authority = plaintext ? null : FleetCertificateAuthority.Create("Treecast loopback relay CA", TimeSpan.FromDays(1));
        AgentCredentials? CredentialsOf(string vmmId) => authority?.IssueCredentials(vmmId, ["127.0.0.1", "localhost"]);

        var relay = new LoopbackRelay(workDirectory);
        relay.Root = await TestAgent.StartAsync("root", workDirectory, relay._events, CredentialsOf("root"), [(ImageVmId, imageBytes)]);
        relay.Relay = await TestAgent.StartAsync("relay", workDirectory, relay._events, CredentialsOf("relay"));
        relay.Leaf = await TestAgent.StartAsync("leaf", workDirectory, relay._events, CredentialsOf("leaf"));
        return relay;
    }

    /// <summary>
    /// Announces a new operation, streams the image root → relay → leaf, and waits until the leaf holds a verified copy.
    /// </summary>
    public async Task<RelayTiming> TransferAsync(int chunkSizeBytes, TimeSpan timeout)
    {
        var operationId = Guid.NewGuid();
        var tree = new VmmTree(1, Root.VmmId, 2, [Root.Node(null), Relay.Node(Root.VmmId), Leaf.Node(Relay.VmmId)]);
        var announced = Root.Engine.Announce(
            new AnnouncePendingTransfer(operationId, Root.VmmId, tree, Root.Vmm.Images, chunkSizeBytes, BroadcastMode.Broadcast));
        Relay.Engine.Expect(announced);
        Leaf.Engine.Expect(announced);

        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        Root.Engine.StartTransfer(operationId);
        await _events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == Relay.VmmId, timeout);
        var relayDone = watch.Elapsed;
        await _events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == Leaf.VmmId, timeout);
        var leafDone = watch.Elapsed;
        process.Refresh();
        return new RelayTiming(relayDone, leafDone, process.TotalProcessorTime - cpu);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in new[] { Leaf, Relay, Root }.Where(a => a is not null))
        {
            await agent.DisposeAsync();
        }
    }
}

/// <summary>How long a relayed transfer took to verify on the relay and on the leaf, and the process CPU time it used.</summary>
public sealed record RelayTiming(TimeSpan RelayVerified, TimeSpan LeafVerified, TimeSpan ProcessCpu);
