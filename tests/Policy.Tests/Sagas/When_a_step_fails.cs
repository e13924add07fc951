using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_step_fails : SagaSpecification
{
    [Fact]
    public async Task Should_fail_naming_the_step_the_vmm_and_the_reason_when_the_root_fails()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);
        var transferTimer = (await OperationIn(id, m => m.Transferring)).StepTimerId;

        await Publish(new OperationStepFailed(id, TestTree.Root, OperationStep.Relay, "Operation was never announced by vmm-0"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal("relay failed on vmm-0: Operation was never announced by vmm-0", operation.FailureReason);
        Assert.Equal(["ResolvingTree", "Pausing", "Announcing", "Transferring", "Failed"], operation.History.Select(h => h.State));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.Failed, finished.State);
        Assert.Equal("relay failed on vmm-0: Operation was never announced by vmm-0", finished.FailureReason);
        Assert.Equal(4, finished.Hosts.Count);
        await SentTo<CancelTimer>(Addresses.SchedulerQueue, m => m.TimerId == transferTimer);
    }

    [Fact]
    public async Task Should_fail_when_the_root_cannot_pause()
    {
        var id = await RequestBroadcast(BroadcastMode.Duplicate);
        await ResolveTree(id, TestTree.Build());

        await Publish(new OperationStepFailed(id, TestTree.Root, OperationStep.Pause, "VM vm-a on vmm-0 is stopped"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal("pause failed on vmm-0: VM vm-a on vmm-0 is stopped", operation.FailureReason);
        Assert.Empty(Harness.Sent.Select<AnnouncePendingTransfer>());
    }

    [Fact]
    public async Task Should_fail_when_the_root_cannot_announce_even_if_a_receiver_failed_first()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await PublishToOperations(new OperationStepFailed(id, "vmm-2", OperationStep.Receive, "no space for spools"));

        await Publish(new OperationStepFailed(id, TestTree.Root, OperationStep.Announce, "the tree is rooted elsewhere"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal("announce failed on vmm-0: the tree is rooted elsewhere", operation.FailureReason);
    }

    [Fact]
    public async Task Should_ignore_reports_that_arrive_after_it_failed()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);
        await Publish(new OperationStepFailed(id, TestTree.Root, OperationStep.Relay, "connection reset by vmm-1"));
        await OperationIn(id, m => m.Failed);
        await Published<BroadcastOperationFinished>(m => m.OperationId == id);

        foreach (var vmm in TestTree.Receivers)
        {
            await PublishToOperations(new VmsReceived(id, vmm, TestTree.Copies(VmState.Paused)));
        }

        await PublishToOperations(new OperationStepFailed(id, "vmm-2", OperationStep.Receive, "late"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal(5, operation.History.Count);
        Assert.Equal("relay failed on vmm-0: connection reset by vmm-1", operation.FailureReason);
        Assert.Single(Harness.Published.Select<BroadcastOperationFinished>());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_fail_when_no_tree_can_be_resolved()
    {
        var id = await RequestBroadcast(BroadcastMode.Duplicate);

        await Publish(new TreeResolutionFailed(id, TestTree.Root, "VMM vmm-0 is not registered"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Contains("VMM vmm-0 is not registered", operation.FailureReason);
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.Failed, finished.State);
        Assert.Null(finished.Tree);
        Assert.Empty(finished.Hosts);
        Assert.Empty(Harness.Sent.Select<PauseVms>());
    }
}
