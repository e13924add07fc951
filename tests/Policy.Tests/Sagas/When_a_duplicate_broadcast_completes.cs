using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_duplicate_broadcast_completes : SagaSpecification
{
    [Fact]
    public async Task Should_resume_on_every_vmm()
    {
        var operation = await RunToTheEnd(BroadcastMode.Duplicate);
        var id = operation.CorrelationId;

        Assert.Equal(BroadcastMode.Duplicate, (await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id)).Mode);
        foreach (var vmm in TestTree.Receivers.Prepend(TestTree.Root))
        {
            var resume = await SentTo<ResumeVms>(Addresses.AgentQueue(vmm), m => m.OperationId == id);
            Assert.Equal(new ResumeVms(id, vmm, IsRoot: vmm == TestTree.Root), resume);
        }

        Assert.Equal(4, Harness.Sent.Select<ResumeVms>().Count());
    }

    [Fact]
    public async Task Should_duplicate_on_every_vmm()
    {
        var operation = await RunToTheEnd(BroadcastMode.Duplicate);

        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == operation.CorrelationId);
        Assert.Equal(OperationFinalState.Duplicated, finished.State);
        Assert.Equal(BroadcastMode.Duplicate, finished.Mode);
        Assert.Equal(TestTree.Vms, finished.Vms);
        Assert.Equal(4, finished.Hosts.Count);
        Assert.All(finished.Hosts, host => Assert.Equal(TestTree.RunningCopiesOn(host.VmmId), host.Vms));
    }

    [Fact]
    public async Task Should_record_every_state_in_order()
    {
        var operation = await RunToTheEnd(BroadcastMode.Duplicate);

        Assert.Equal(
            ["ResolvingTree", "Pausing", "Announcing", "Transferring", "Duplicating", "Duplicated"],
            operation.History.Select(h => h.State));
        Assert.All(operation.Hosts, host => Assert.True(host.Resumed));
        Assert.Null(operation.StepTimerId);
        Assert.Contains(Harness.Sent.Select<ScheduleTimer>(), m => m.Context.Message.Purpose == "broadcast:Duplicating");
    }

    [Fact]
    public async Task Should_wait_for_every_vmm_to_resume()
    {
        var id = await RequestBroadcast(BroadcastMode.Duplicate);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);
        await ReceiveOnEveryReceiver(id);
        await OperationIn(id, m => m.Duplicating);

        await PublishToOperations(new VmsResumed(id, TestTree.Root, TestTree.RunningCopiesOn(TestTree.Root)));
        await PublishToOperations(new VmsResumed(id, "vmm-1", TestTree.RunningCopiesOn("vmm-1")));

        var operation = await OperationIn(id, m => m.Duplicating);
        Assert.Equal(["vmm-0", "vmm-1"], operation.Hosts.Where(h => h.Resumed).Select(h => h.VmmId));
    }
}
