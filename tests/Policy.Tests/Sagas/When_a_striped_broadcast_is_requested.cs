using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_striped_broadcast_is_requested : SagaSpecification
{
    [Fact]
    public async Task Should_ask_topology_for_the_stripes_in_the_first_tree_and_in_every_repair()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast, stripes: 3);

        Assert.Equal(new ResolveTree(id, TestTree.Root, 2, 3, 65536), await SentTo<ResolveTree>(Addresses.TopologyQueue, m => m.OperationId == id));
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);

        await Publish(new ParentUnreachable(id, "vmm-3", "vmm-1", 4096, "connection refused"));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(3, repair.Stripes);
    }
}
