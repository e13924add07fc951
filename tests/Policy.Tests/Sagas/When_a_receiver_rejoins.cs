using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>An agent restarted with the same id finds an unfinished receive in its work directory and resumes it.</summary>
public sealed class When_a_receiver_rejoins : SagaSpecification
{
    [Fact]
    public async Task Should_take_back_a_vmm_failed_as_lost_and_repair_the_tree_with_it()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationVmmLost(id, "vmm-3", "no heartbeat since 08:59"));
        Assert.True(await Eventually(() => Operations.Sagas.Contains(id).Hosts.Single(h => h.VmmId == "vmm-3").Failed));

        await Publish(new ReceiveResumed(id, "vmm-3", 4096));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(["vmm-0", "vmm-1", "vmm-2", "vmm-3"], repair.Members);
        var rejoined = (await OperationIn(id, m => m.Transferring)).Hosts.Single(h => h.VmmId == "vmm-3");
        Assert.False(rejoined.Failed);
        Assert.Null(rejoined.FailureReason);

        await Publish(new TreeRepaired(id, TestTree.Build(version: 4), []));
        await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.Tree.Version == 4);
        await Receive(id, TestTree.Receivers);

        var operation = await OperationIn(id, m => m.Completed);
        Assert.Null(operation.FailureReason);
        Assert.Contains(operation.History, h => h.Note == "vmm-3 rejoined holding 4096 bytes");
        Assert.Contains(operation.History, h => h.Note == "tree v4 repaired after vmm-3 rejoined: no VMM re-parented");
    }

    [Fact]
    public async Task Should_not_take_back_a_vmm_whose_own_receive_failed()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationStepFailed(id, "vmm-2", OperationStep.Receive, "disk full"));

        await PublishToOperations(new ReceiveResumed(id, "vmm-2", 4096));

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.Equal("receive failed: disk full", operation.Hosts.Single(h => h.VmmId == "vmm-2").FailureReason);
        Assert.Empty(Harness.Sent.Select<RepairTree>());
    }

    [Fact]
    public async Task Should_tell_an_agent_that_comes_back_after_the_end_to_delete_what_it_holds()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationVmmLost(id, "vmm-3", "no heartbeat since 08:59"));
        await Receive(id, "vmm-1", "vmm-2");
        await OperationIn(id, m => m.CompletedWithFailures);

        await Publish(new ReceiveResumed(id, "vmm-3", 4096));

        Assert.Equal(new CancelTransfer(id, "vmm-3"), await SentTo<CancelTransfer>(Addresses.AgentQueue("vmm-3"), m => m.OperationId == id));
        Assert.Equal("CompletedWithFailures", (await OperationIn(id, m => m.CompletedWithFailures)).CurrentState);
    }
}
