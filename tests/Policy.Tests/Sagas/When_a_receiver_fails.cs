using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// A receiving VMM whose receive, adoption, feeding relay or resume fails drops out alone; the VMMs it was to feed get
/// a repaired tree; the operation goes on with the others. Over <see cref="TestTree"/>: vmm-0 feeds vmm-1 and vmm-2, vmm-1 feeds vmm-3.
/// </summary>
public sealed class When_a_receiver_fails : SagaSpecification
{
    [Fact]
    public async Task Should_complete_with_failures_when_a_leaf_cannot_adopt_its_copies()
    {
        var id = await Transferring(BroadcastMode.Broadcast);

        await Publish(new OperationStepFailed(id, "vmm-2", OperationStep.Receive, "VM vm-a on vmm-2: its state did not load"));
        await Receive(id, "vmm-1", "vmm-3");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        var failed = operation.Hosts.Single(h => h.VmmId == "vmm-2");
        Assert.True(failed.Failed);
        Assert.Equal("receive failed: VM vm-a on vmm-2: its state did not load", failed.FailureReason);
        Assert.Empty(failed.Copies);
        Assert.All(operation.Hosts.Where(h => h.VmmId != "vmm-2"), h => Assert.False(h.Failed));
        Assert.Equal("1 of 3 receiving VMMs failed: vmm-2 (receive failed: VM vm-a on vmm-2: its state did not load)", operation.FailureReason);
        Assert.Equal(["ResolvingTree", "Pausing", "Announcing", "Transferring", "Transferring", "CompletedWithFailures"], operation.History.Select(h => h.State));
        Assert.Equal("vmm-2 failed (receive failed: VM vm-a on vmm-2: its state did not load)", operation.History[4].Note);
        Assert.Null(operation.StepTimerId);

        // A leaf feeds nobody: no tree to repair.
        Assert.Empty(Harness.Sent.Select<RepairTree>());

        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.CompletedWithFailures, finished.State);
        Assert.Equal(operation.FailureReason, finished.FailureReason);
        Assert.Empty(finished.Hosts.Single(h => h.VmmId == "vmm-2").Vms);
        Assert.All(finished.Hosts.Where(h => h.VmmId != "vmm-2"), h => Assert.Equal(TestTree.Copies(VmState.Paused), h.Vms));
    }

    [Fact]
    public async Task Should_repair_the_tree_for_the_vmms_a_failed_relay_was_to_feed()
    {
        var id = await Transferring(BroadcastMode.Broadcast);

        await Publish(new OperationStepFailed(id, "vmm-1", OperationStep.Receive, "QEMU was killed by signal 9"));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(["vmm-0", "vmm-2", "vmm-3"], repair.Members);
        Assert.Equal(3, repair.PreviousVersion);
        var waiting = await OperationIn(id, m => m.Transferring);
        Assert.False(waiting.Hosts.Single(h => h.VmmId == "vmm-3").Failed);

        await Publish(new TreeRepaired(id, TestTree.Repaired(4, ("vmm-2", TestTree.Root), ("vmm-3", "vmm-2")), []));
        var announce = await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id && m.Tree.Version == 4);
        Assert.Equal(TestTree.Vms, announce.Vms);
        await Receive(id, "vmm-2", "vmm-3");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.Equal("1 of 3 receiving VMMs failed: vmm-1 (receive failed: QEMU was killed by signal 9)", operation.FailureReason);
        Assert.Contains(operation.History, h => h.Note == "tree v4 repaired after receive failed on vmm-1: vmm-3 re-parented");
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(["vmm-0", "vmm-2", "vmm-3"], finished.Hosts.Where(h => h.Vms.Count > 0).Select(h => h.VmmId));
    }

    [Fact]
    public async Task Should_keep_a_vmm_below_a_failed_relay_that_was_verified_before_the_failure()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Receive(id, "vmm-3");

        await Publish(new OperationStepFailed(id, "vmm-1", OperationStep.Receive, "disk full"));
        await Receive(id, "vmm-2");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.Equal(["vmm-1"], operation.Hosts.Where(h => h.Failed).Select(h => h.VmmId));
        Assert.True(operation.Hosts.Single(h => h.VmmId == "vmm-3").Verified);
    }

    [Fact]
    public async Task Should_complete_when_a_vmm_below_a_failed_relay_verifies_before_the_repair_arrives()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await PublishToOperations(new OperationStepFailed(id, "vmm-1", OperationStep.Receive, "disk full"));
        await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);

        // vmm-1 had relayed every chunk before its own adoption failed: vmm-3 holds verified copies.
        await Receive(id, "vmm-3", "vmm-2");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.Equal(["vmm-1"], operation.Hosts.Where(h => h.Failed).Select(h => h.VmmId));
        Assert.Equal("1 of 3 receiving VMMs failed: vmm-1 (receive failed: disk full)", operation.FailureReason);
    }

    [Fact]
    public async Task Should_ignore_copies_reported_by_a_vmm_whose_own_step_failed()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await PublishToOperations(new OperationStepFailed(id, "vmm-2", OperationStep.Receive, "disk full"));
        await PublishToOperations(new VmsReceived(id, "vmm-2", TestTree.Copies(VmState.Paused)));

        await Receive(id, "vmm-1", "vmm-3");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.True(operation.Hosts.Single(h => h.VmmId == "vmm-2").Failed);
        Assert.Empty(operation.Hosts.Single(h => h.VmmId == "vmm-2").Copies);
    }

    [Fact]
    public async Task Should_fail_when_every_receiver_failed()
    {
        var id = await Transferring(BroadcastMode.Duplicate);

        await Publish(new OperationStepFailed(id, "vmm-2", OperationStep.Relay, "vmm-2 refused the stream"));
        await Publish(new OperationStepFailed(id, "vmm-1", OperationStep.Receive, "disk full"));
        await Publish(new OperationStepFailed(id, "vmm-3", OperationStep.Receive, "no space for spools"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal(
            "every receiving VMM failed: vmm-1 (receive failed: disk full); vmm-2 (relay failed: vmm-2 refused the stream); vmm-3 (receive failed: no space for spools)",
            operation.FailureReason);
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.Failed, finished.State);
        Assert.Empty(Harness.Sent.Select<ResumeVms>());
    }

    [Fact]
    public async Task Should_start_the_transfer_without_a_vmm_that_failed_to_prepare()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);

        await Publish(new ReadyToReceive(id, "vmm-1"));
        await Publish(new OperationStepFailed(id, "vmm-2", OperationStep.Receive, "no space for spools"));
        await Publish(new ReadyToReceive(id, "vmm-3"));

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.Equal(new StartTransfer(id, TestTree.Root), await SentTo<StartTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id));
        Assert.Contains("going on without vmm-2", operation.History.Last().Note);
        await Receive(id, "vmm-1", "vmm-3");
        await OperationIn(id, m => m.CompletedWithFailures);
    }

    [Fact]
    public async Task Should_resume_only_the_vmms_that_hold_verified_copies()
    {
        var id = await Transferring(BroadcastMode.Duplicate);

        await Publish(new OperationStepFailed(id, "vmm-2", OperationStep.Receive, "disk full"));
        await Receive(id, "vmm-1", "vmm-3");
        await OperationIn(id, m => m.Duplicating);
        foreach (var vmm in new[] { TestTree.Root, "vmm-1", "vmm-3" })
        {
            await SentTo<ResumeVms>(Addresses.AgentQueue(vmm), m => m.OperationId == id);
            await Publish(new VmsResumed(id, vmm, TestTree.RunningCopiesOn(vmm)));
        }

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.Empty(SentTo<ResumeVms>(Addresses.AgentQueue("vmm-2")));
        Assert.Equal(3, Harness.Sent.Select<ResumeVms>().Count());
        Assert.Equal(["ResolvingTree", "Pausing", "Announcing", "Transferring", "Transferring", "Duplicating", "CompletedWithFailures"], operation.History.Select(h => h.State));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.CompletedWithFailures, finished.State);
        Assert.Empty(finished.Hosts.Single(h => h.VmmId == "vmm-2").Vms);
        Assert.All(finished.Hosts.Where(h => h.VmmId != "vmm-2"), h => Assert.Equal(TestTree.RunningCopiesOn(h.VmmId), h.Vms));
    }

    [Fact]
    public async Task Should_complete_with_failures_when_a_receiver_cannot_resume()
    {
        var id = await Transferring(BroadcastMode.Duplicate);
        await Receive(id, TestTree.Receivers);
        await OperationIn(id, m => m.Duplicating);

        await Publish(new VmsResumed(id, TestTree.Root, TestTree.RunningCopiesOn(TestTree.Root)));
        await Publish(new OperationStepFailed(id, "vmm-1", OperationStep.Resume, "VM vm-a on vmm-1 is stopped"));
        await Publish(new VmsResumed(id, "vmm-2", TestTree.RunningCopiesOn("vmm-2")));
        await Publish(new VmsResumed(id, "vmm-3", TestTree.RunningCopiesOn("vmm-3")));

        var operation = await OperationIn(id, m => m.CompletedWithFailures);

        // vmm-3 already held its verified copies: its parent's failure to resume takes nothing from it.
        Assert.Equal(["vmm-1"], operation.Hosts.Where(h => h.Failed).Select(h => h.VmmId));
        Assert.Equal("1 of 3 receiving VMMs failed: vmm-1 (resume failed: VM vm-a on vmm-1 is stopped)", operation.FailureReason);
    }
}
