using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_receivers_report_progress : SagaSpecification
{
    [Fact]
    public async Task Should_start_the_transfer_only_when_every_vmm_is_ready()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);

        await PublishToOperations(new ReadyToReceive(id, "vmm-1"));
        await PublishToOperations(new ReadyToReceive(id, "vmm-1"));
        await PublishToOperations(new ReadyToReceive(id, TestTree.Root));
        await PublishToOperations(new ReadyToReceive(id, "vmm-2"));

        var waiting = await OperationIn(id, m => m.Announcing);
        Assert.Equal(["vmm-1", "vmm-2"], waiting.Hosts.Where(h => h.Ready && h.VmmId != TestTree.Root).Select(h => h.VmmId));
        Assert.Empty(Harness.Sent.Select<StartTransfer>());

        await Publish(new ReadyToReceive(id, "vmm-3"));
        await OperationIn(id, m => m.Transferring);
        await SentTo<StartTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id);
        Assert.Single(Harness.Sent.Select<StartTransfer>());
    }

    [Fact]
    public async Task Should_never_lower_the_bytes_received()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);

        await PublishToOperations(new TransferProgressed(id, "vmm-2", 8192, TestTree.TotalBytes));
        await PublishToOperations(new TransferProgressed(id, "vmm-2", 4096, TestTree.TotalBytes));

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.Equal(8192, operation.Hosts.Single(h => h.VmmId == "vmm-2").BytesReceived);
        Assert.Equal(TestTree.TotalBytes, operation.Hosts.Single(h => h.VmmId == "vmm-2").TotalBytes);
    }

    [Fact]
    public async Task Should_wait_for_every_vmm_to_verify_its_copies()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);

        await PublishToOperations(new VmsReceived(id, "vmm-1", TestTree.Copies(VmState.Paused)));
        await PublishToOperations(new VmsReceived(id, "vmm-3", TestTree.Copies(VmState.Paused)));

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.False(operation.Hosts.Single(h => h.VmmId == "vmm-2").Verified);
        Assert.Empty(Harness.Published.Select<BroadcastOperationFinished>());

        await Publish(new VmsReceived(id, "vmm-2", TestTree.Copies(VmState.Paused)));
        await OperationIn(id, m => m.Completed);
    }
}
