using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_broadcast_completes : SagaSpecification
{
    [Fact]
    public async Task Should_send_every_command_to_the_right_service()
    {
        var operation = await RunToTheEnd(BroadcastMode.Broadcast);
        var id = operation.CorrelationId;

        var resolve = await SentTo<ResolveTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(new ResolveTree(id, TestTree.Root, 2, ChunkSizeBytes: 65536), resolve);

        var rootQueue = Addresses.AgentQueue(TestTree.Root);
        Assert.Equal(new PauseVms(id, TestTree.Root), await SentTo<PauseVms>(rootQueue, m => m.OperationId == id));
        var announce = await SentTo<AnnouncePendingTransfer>(rootQueue, m => m.OperationId == id);
        Assert.Equal(TestTree.Root, announce.VmmId);
        Assert.Equal(3, announce.Tree.Version);
        Assert.Equal(TestTree.Build().Nodes, announce.Tree.Nodes);
        Assert.Equal(TestTree.Vms, announce.Vms);
        Assert.Equal(65536, announce.ChunkSizeBytes);
        Assert.Equal(BroadcastMode.Broadcast, announce.Mode);
        Assert.Equal(new StartTransfer(id, TestTree.Root), await SentTo<StartTransfer>(rootQueue, m => m.OperationId == id));

        // Commands go to the root only: the other agents learn of the operation from the root's announcement.
        Assert.All(TestTree.Receivers, vmm =>
        {
            Assert.Empty(SentTo<PauseVms>(Addresses.AgentQueue(vmm)));
            Assert.Empty(SentTo<StartTransfer>(Addresses.AgentQueue(vmm)));
        });
        Assert.Empty(Harness.Sent.Select<ResumeVms>());
    }

    [Fact]
    public async Task Should_publish_paused_copies_on_every_vmm()
    {
        var operation = await RunToTheEnd(BroadcastMode.Broadcast);

        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == operation.CorrelationId);
        Assert.Equal(OperationFinalState.Completed, finished.State);
        Assert.Equal(BroadcastMode.Broadcast, finished.Mode);
        Assert.Equal(TestTree.Root, finished.RootVmmId);
        Assert.Equal(3, finished.Tree?.Version);
        Assert.Equal(TestTree.Vms, finished.Vms);
        Assert.Null(finished.FailureReason);
        Assert.Equal(Clock.GetUtcNow(), finished.FinishedAt);
        Assert.Equal(["vmm-0", "vmm-1", "vmm-2", "vmm-3"], finished.Hosts.Select(h => h.VmmId));
        Assert.All(finished.Hosts, host => Assert.Equal(TestTree.Copies(VmState.Paused), host.Vms));
    }

    [Fact]
    public async Task Should_record_every_state_in_order()
    {
        var operation = await RunToTheEnd(BroadcastMode.Broadcast);

        Assert.Equal(
            ["ResolvingTree", "Pausing", "Announcing", "Transferring", "Completed"],
            operation.History.Select(h => h.State));
        Assert.Equal("tree v3 over 4 VMMs", operation.History[1].Note);
        Assert.Equal(3, operation.TreeVersion);
        Assert.NotNull(operation.FinishedAt);
        Assert.Null(operation.FailureReason);
        Assert.All(operation.Hosts, host =>
        {
            Assert.True(host.Verified);
            Assert.Equal(TestTree.TotalBytes, host.TotalBytes);
            Assert.Equal(TestTree.TotalBytes, host.BytesReceived);
        });
        Assert.Equal("vmm-1", operation.Hosts.Single(h => h.VmmId == "vmm-3").ParentVmmId);
    }

    [Fact]
    public async Task Should_replace_one_step_timer_in_place_and_cancel_it_at_the_end()
    {
        var operation = await RunToTheEnd(BroadcastMode.Broadcast);

        var scheduled = Harness.Sent.Select<ScheduleTimer>()
            .Select(m => m.Context.Message)
            .Where(t => t.CorrelationId == operation.CorrelationId)
            .ToList();
        Assert.Equal(
            ["broadcast:ResolvingTree", "broadcast:Pausing", "broadcast:Announcing", "broadcast:Transferring"],
            scheduled.Select(t => t.Purpose));
        var timerId = Assert.Single(scheduled.Select(t => t.TimerId).Distinct());
        await SentTo<CancelTimer>(Addresses.SchedulerQueue, c => c.TimerId == timerId);
        Assert.Single(SentTo<CancelTimer>(Addresses.SchedulerQueue));
        Assert.Null(operation.StepTimerId);
    }
}
