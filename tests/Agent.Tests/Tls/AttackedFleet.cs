using Treecast.Agent.Tests.Support;
using Treecast.Contracts;
using Treecast.Transfer.Protocol;

namespace Treecast.Agent.Tests.Tls;

/// <summary>
/// A root with one VM and two children (siblings) on real gRPC servers over loopback sockets, mutual TLS, an announced
/// operation whose token an attacker read off the bus, and the agents' log lines.
/// </summary>
internal sealed class AttackedFleet : IAsyncDisposable
{
    public const string Root = "root";
    public const string Child = "child";
    public const string Sibling = "sibling";

    private AttackedFleet(TransferCluster cluster, RecordedLogs logs, PendingTransferAnnounced announced)
    {
        Cluster = cluster;
        Logs = logs;
        Announced = announced;
    }

    public TransferCluster Cluster { get; }

    public RecordedLogs Logs { get; }

    public PendingTransferAnnounced Announced { get; }

    public Guid OperationId => Announced.OperationId;

    public static async Task<AttackedFleet> StartAsync()
    {
        var logs = new RecordedLogs();
        var cluster = new TransferCluster(logs: logs);
        await cluster.AddAsync(Root, null, [("root-vm-0", 3 * 1024 * 1024 + 123)]);
        await cluster.AddAsync(Child, Root);
        await cluster.AddAsync(Sibling, Root);
        return new AttackedFleet(cluster, logs, cluster.Announce(Guid.NewGuid()));
    }

    /// <summary>The header the real parent sends the child: the sniffed token, the parent's id.</summary>
    public PushHeader HeaderAsTheParent() => new()
    {
        OperationId = OperationId.ToString(),
        Token = Announced.Token,
        SenderVmmId = Root,
        ReceiverVmmId = Child,
    };

    /// <summary>Bytes the child holds of the operation.</summary>
    public long HeldByTheChild()
    {
        Assert.True(Cluster[Child].Engine.TryGetReceiver(OperationId, out var receiver));
        return receiver.BytesReceived;
    }

    /// <summary>The real parent pushes; the child's and the sibling's copies must be the root's, byte for byte.</summary>
    public async Task AssertTheRealParentsCopyVerifiesAsync()
    {
        var root = Cluster[Root];
        Assert.True(root.Engine.StartTransfer(OperationId));
        foreach (var receiver in new[] { Child, Sibling })
        {
            await Cluster.WaitForReceivedAsync(OperationId, receiver);
            var image = root.Vmm.Images.Single();
            Assert.Equal(image.Sha256, FileVmm.Sha256Of(Cluster[receiver].Vmm.ImagePath(image.VmId)));
        }
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}
