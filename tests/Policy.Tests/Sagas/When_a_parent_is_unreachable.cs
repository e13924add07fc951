using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// A receiver's stream from its parent broke and no parent came back within the agent's grace period
/// (<see cref="ParentUnreachable"/>), over <see cref="TestTree"/>: vmm-0 feeds vmm-1 and vmm-2, vmm-1 feeds vmm-3.
/// </summary>
public sealed class When_a_parent_is_unreachable : SagaSpecification
{
    [Fact]
    public async Task Should_fail_the_parent_alone_and_repair_the_tree()
    {
        var id = await Transferring(BroadcastMode.Broadcast);

        await Publish(new ParentUnreachable(id, "vmm-3", "vmm-1", 4096, "connection refused"));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(["vmm-0", "vmm-2", "vmm-3"], repair.Members);
        var operation = await OperationIn(id, m => m.Transferring);
        var parent = operation.Hosts.Single(h => h.VmmId == "vmm-1");
        Assert.Equal("unreachable from vmm-3: connection refused", parent.FailureReason);
        Assert.True(parent.MayRejoin);
        Assert.False(operation.Hosts.Single(h => h.VmmId == "vmm-3").Failed);

        await Publish(new TreeRepaired(id, TestTree.Repaired(4, ("vmm-2", TestTree.Root), ("vmm-3", "vmm-2")), []));
        await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.Tree.Version == 4);
        Assert.Contains(
            (await OperationIn(id, m => m.Transferring)).History,
            h => h.Note == "tree v4 repaired after vmm-1 was unreachable from vmm-3: vmm-3 re-parented");
    }

    [Fact]
    public async Task Should_repair_without_failing_the_root_when_the_root_is_the_parent()
    {
        var id = await Transferring(BroadcastMode.Broadcast);

        await Publish(new ParentUnreachable(id, "vmm-2", TestTree.Root, 0, "deadline exceeded"));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(["vmm-0", "vmm-1", "vmm-2", "vmm-3"], repair.Members);
        Assert.DoesNotContain((await OperationIn(id, m => m.Transferring)).Hosts, h => h.Failed);

        await Publish(new TreeRepaired(id, TestTree.Build(version: 4), []));
        var announce = await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.Tree.Version == 4);
        Assert.Equal(TestTree.Build().Nodes, announce.Tree.Nodes);
        Assert.Contains(
            (await OperationIn(id, m => m.Transferring)).History,
            h => h.Note == "tree v4 repaired after vmm-2 could not reach root vmm-0: no VMM re-parented");
    }

    [Fact]
    public async Task Should_ignore_a_report_about_a_parent_the_tree_no_longer_gives_it()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationVmmLost(id, "vmm-1", "no heartbeat since 08:59"));
        await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        await Publish(new TreeRepaired(id, TestTree.Repaired(4, ("vmm-2", TestTree.Root), ("vmm-3", "vmm-2")), []));
        await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.Tree.Version == 4);

        // Late: vmm-3's grace period for vmm-1 ran out after the repair gave it vmm-2.
        await PublishToOperations(new ParentUnreachable(id, "vmm-3", "vmm-1", 4096, "connection refused"));

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.Single(Harness.Sent.Select<RepairTree>());
        Assert.Equal(["vmm-1"], operation.Hosts.Where(h => h.Failed).Select(h => h.VmmId));
    }
}
