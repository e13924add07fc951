using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_tree_has_only_the_root : SagaSpecification
{
    [Fact]
    public async Task Should_complete_as_soon_as_the_vms_are_paused()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.RootOnly());
        await PauseRoot(id);

        var operation = await OperationIn(id, m => m.Completed);
        Assert.Equal(["ResolvingTree", "Pausing", "Completed"], operation.History.Select(h => h.State));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        var root = Assert.Single(finished.Hosts);
        Assert.Equal(TestTree.Root, root.VmmId);
        Assert.Equal(TestTree.Copies(VmState.Paused), root.Vms);
        Assert.Empty(Harness.Sent.Select<AnnouncePendingTransfer>());
    }

    [Fact]
    public async Task Should_resume_on_the_root_in_duplicate_mode()
    {
        var id = await RequestBroadcast(BroadcastMode.Duplicate);
        await ResolveTree(id, TestTree.RootOnly());
        await PauseRoot(id);
        await OperationIn(id, m => m.Duplicating);

        Assert.Equal(new ResumeVms(id, TestTree.Root, true), await SentTo<ResumeVms>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id));
        await Publish(new VmsResumed(id, TestTree.Root, TestTree.RunningCopiesOn(TestTree.Root)));

        var operation = await OperationIn(id, m => m.Duplicated);
        Assert.Equal(["ResolvingTree", "Pausing", "Duplicating", "Duplicated"], operation.History.Select(h => h.State));
        Assert.Empty(Harness.Sent.Select<AnnouncePendingTransfer>());
    }
}
