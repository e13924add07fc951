using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// <see cref="CancelOperation"/> in each state an operation can be cancelled in: every VMM of the tree is told to stop
/// and delete what it received, the root resumes its VMs, and the operation ends <c>Cancelled</c> with who asked and when.
/// </summary>
public sealed class When_an_operation_is_cancelled : SagaSpecification
{
    private static readonly DateTimeOffset AskedAt = new(2026, 11, 25, 9, 5, 0, TimeSpan.Zero);

    [Fact]
    public async Task Should_cancel_while_transferring_and_end_cancelled_with_who_and_when()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Receive(id, "vmm-2");

        await Publish(Cancel(id));

        var cancelling = await OperationIn(id, m => m.Cancelling);
        Assert.Equal("cancel requested by ops@example: wrong root", cancelling.History[^1].Note);
        foreach (var vmm in TestTree.Receivers.Prepend(TestTree.Root))
        {
            Assert.Equal(new CancelTransfer(id, vmm), await SentTo<CancelTransfer>(Addresses.AgentQueue(vmm), m => m.OperationId == id));
        }

        Assert.Equal(new ResumeVms(id, TestTree.Root, true), await SentTo<ResumeVms>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id));
        var timer = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:Cancelling");
        Assert.Equal(Clock.GetUtcNow() + TimeSpan.FromSeconds(60), timer.FireAt);

        await Publish(new VmsResumed(id, TestTree.Root, TestTree.Copies(VmState.Running)));

        var operation = await OperationIn(id, m => m.Cancelled);
        Assert.Equal("cancelled by ops@example at 2026-11-25T09:05:00.0000000+00:00: wrong root", operation.FailureReason);
        Assert.Equal("ops@example", operation.Cancel?.RequestedBy);
        Assert.Equal(["ResolvingTree", "Pausing", "Announcing", "Transferring", "Cancelling", "Cancelled"], operation.History.Select(h => h.State));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.Cancelled, finished.State);
        Assert.Equal(operation.FailureReason, finished.FailureReason);
        Assert.All(finished.Hosts.Where(h => h.VmmId != TestTree.Root), h => Assert.Empty(h.Vms));
        Assert.Equal(TestTree.Copies(VmState.Running), finished.Hosts.Single(h => h.VmmId == TestTree.Root).Vms);
        Assert.Single(Harness.Sent.Select<StartTransfer>());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_cancel_while_resolving_the_tree()
    {
        var id = await RequestBroadcast(BroadcastMode.Duplicate);

        await Publish(Cancel(id));

        await OperationIn(id, m => m.Cancelling);
        await SentTo<ResumeVms>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id);
        Assert.Empty(Harness.Sent.Select<CancelTransfer>());

        // Topology answers late: the operation does not go on.
        await PublishToOperations(new TreeResolved(id, TestTree.Build()));
        await Publish(new VmsResumed(id, TestTree.Root, TestTree.Copies(VmState.Running)));
        await OperationIn(id, m => m.Cancelled);
        Assert.Empty(Harness.Sent.Select<PauseVms>());
    }

    [Fact]
    public async Task Should_cancel_while_pausing()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());

        await Publish(Cancel(id));

        await OperationIn(id, m => m.Cancelling);
        Assert.Equal(4, Harness.Sent.Select<CancelTransfer>().Count());
        await PublishToOperations(new VmsPaused(id, TestTree.Root, TestTree.Vms));
        Assert.Empty(Harness.Sent.Select<AnnouncePendingTransfer>());
        await Publish(new VmsResumed(id, TestTree.Root, TestTree.Copies(VmState.Running)));
        await OperationIn(id, m => m.Cancelled);
    }

    [Fact]
    public async Task Should_cancel_while_announcing()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);

        await Publish(Cancel(id));
        await OperationIn(id, m => m.Cancelling);
        foreach (var vmm in TestTree.Receivers)
        {
            await PublishToOperations(new ReadyToReceive(id, vmm));
        }

        Assert.Empty(Harness.Sent.Select<StartTransfer>());
        await Publish(new VmsResumed(id, TestTree.Root, TestTree.Copies(VmState.Running)));
        await OperationIn(id, m => m.Cancelled);
    }

    [Fact]
    public async Task Should_end_cancelled_even_when_the_root_cannot_resume_or_does_not_answer()
    {
        var failing = await Transferring(BroadcastMode.Broadcast);
        var silent = await Transferring(BroadcastMode.Broadcast);
        await Publish(Cancel(failing));
        await Publish(Cancel(silent));
        await OperationIn(failing, m => m.Cancelling);
        var timer = (await OperationIn(silent, m => m.Cancelling)).StepTimerId!.Value;

        await Publish(new OperationStepFailed(failing, TestTree.Root, OperationStep.Resume, "VM vm-a on vmm-0 is stopped"));
        Clock.Advance(TimeSpan.FromSeconds(60));
        await Publish(Fire(timer, silent, "broadcast:Cancelling"));

        var failed = await OperationIn(failing, m => m.Cancelled);
        Assert.StartsWith("the root could not resume its VMs: resume failed: VM vm-a on vmm-0 is stopped; cancelled by ops@example", failed.History[^1].Note, StringComparison.Ordinal);
        var timedOut = await OperationIn(silent, m => m.Cancelled);
        Assert.StartsWith("the root did not confirm its VMs run again before step Cancelling timed out; cancelled by", timedOut.History[^1].Note, StringComparison.Ordinal);
        Assert.Equal(OperationFinalState.Cancelled, (await Published<BroadcastOperationFinished>(m => m.OperationId == silent)).State);
    }

    [Fact]
    public async Task Should_tell_an_agent_that_resumes_a_receive_while_cancelling_to_delete_it()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(Cancel(id));
        await OperationIn(id, m => m.Cancelling);
        var before = SentTo<CancelTransfer>(Addresses.AgentQueue("vmm-3")).Count;

        await Publish(new ReceiveResumed(id, "vmm-3", 4096));

        Assert.True(await Eventually(() => SentTo<CancelTransfer>(Addresses.AgentQueue("vmm-3")).Count == before + 1));
    }

    private static CancelOperation Cancel(Guid id) => new(id, "ops@example", "wrong root", AskedAt);
}
