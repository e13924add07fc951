using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// A redelivered request meets receivers that verified their copies in an earlier run: each answers the announcement
/// with <see cref="ReadyToReceive"/> and <see cref="VmsReceived"/> again, in either order.
/// </summary>
public sealed class When_receivers_already_hold_verified_copies : SagaSpecification
{
    [Fact]
    public async Task Should_accept_their_copies_while_announcing_and_complete()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);

        await PublishToOperations(new VmsReceived(id, "vmm-1", TestTree.Copies(VmState.Paused)));
        var announcing = await OperationIn(id, m => m.Announcing);
        var vmm1 = announcing.Hosts.Single(h => h.VmmId == "vmm-1");
        Assert.True(vmm1.Ready && vmm1.Verified);

        await Publish(new ReadyToReceive(id, "vmm-1"));
        await Publish(new VmsReceived(id, "vmm-2", TestTree.Copies(VmState.Paused)));
        await Publish(new ReadyToReceive(id, "vmm-2"));
        await Publish(new VmsReceived(id, "vmm-3", TestTree.Copies(VmState.Paused)));

        var operation = await OperationIn(id, m => m.Completed);
        Assert.Equal(["ResolvingTree", "Pausing", "Announcing", "Transferring", "Completed"], operation.History.Select(h => h.State));
        Assert.All(operation.Hosts, h => Assert.True(h.Verified));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.Completed, finished.State);
        Assert.All(finished.Hosts, h => Assert.Equal(TestTree.Copies(VmState.Paused), h.Vms));
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_start_the_transfer_for_the_others_when_only_some_hold_copies()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);

        await Publish(new VmsReceived(id, "vmm-2", TestTree.Copies(VmState.Paused)));
        await Publish(new ReadyToReceive(id, "vmm-1"));
        await Publish(new ReadyToReceive(id, "vmm-3"));

        await OperationIn(id, m => m.Transferring);
        await SentTo<StartTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id);
        await Publish(new VmsReceived(id, "vmm-1", TestTree.Copies(VmState.Paused)));
        await Publish(new VmsReceived(id, "vmm-3", TestTree.Copies(VmState.Paused)));
        await OperationIn(id, m => m.Completed);
    }
}
