using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>Two VMMs are lost one after the other; topology's answers to the two repairs arrive out of order.</summary>
public sealed class When_repairs_race : SagaSpecification
{
    [Fact]
    public async Task Should_adopt_the_newest_tree_and_ignore_an_older_one()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationVmmLost(id, "vmm-1", "no heartbeat since 08:59"));
        await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id && m.Members.Contains("vmm-2"));

        // vmm-2 fails while the first repair is under way; the second repair's tree (v5) comes first.
        await Publish(new OperationStepFailed(id, "vmm-2", OperationStep.Relay, "vmm-2 refused the stream"));
        await Publish(new TreeRepaired(id, TestTree.Repaired(5, ("vmm-3", TestTree.Root)), []));
        await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.Tree.Version == 5);
        await PublishToOperations(new TreeRepaired(id, TestTree.Repaired(4, ("vmm-2", TestTree.Root), ("vmm-3", "vmm-2")), []));

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.Equal(5, operation.TreeVersion);
        Assert.Equal(TestTree.Root, operation.Hosts.Single(h => h.VmmId == "vmm-3").ParentVmmId);
        Assert.DoesNotContain(Harness.Sent.Select<AnnouncePendingTransfer>(), m => m.Context.Message.Tree.Version == 4);
        Assert.Single(operation.History, h => h.Note.Contains(" repaired after ", StringComparison.Ordinal));

        await Receive(id, "vmm-3");
        Assert.Equal(
            "2 of 3 receiving VMMs failed: vmm-1 (lost: no heartbeat since 08:59); vmm-2 (relay failed: vmm-2 refused the stream)",
            (await OperationIn(id, m => m.CompletedWithFailures)).FailureReason);
    }

    [Fact]
    public async Task Should_ask_again_when_the_tree_it_adopts_still_feeds_a_vmm_through_a_failed_one()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationVmmLost(id, "vmm-1", "no heartbeat since 08:59"));
        await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);

        // vmm-3 still waits under the lost vmm-1, and the first repair counted on vmm-2: a second one is asked for.
        await Publish(new OperationVmmLost(id, "vmm-2", "no heartbeat since 09:00"));
        await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id && !m.Members.Contains("vmm-2"));

        // The first answer, built before vmm-2 was lost, hangs vmm-3 under vmm-2: adopted (it is newer), then repaired.
        await Publish(new TreeRepaired(id, TestTree.Repaired(4, ("vmm-2", TestTree.Root), ("vmm-3", "vmm-2")), []));

        var again = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.PreviousVersion == 4);
        Assert.Equal(["vmm-0", "vmm-3"], again.Members);
        Assert.Equal(4, (await OperationIn(id, m => m.Transferring)).TreeVersion);
    }
}
