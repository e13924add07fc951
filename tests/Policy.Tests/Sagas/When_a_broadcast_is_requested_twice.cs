using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_broadcast_is_requested_twice : SagaSpecification
{
    [Fact]
    public async Task Should_ignore_the_second_request()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast, reason: "first");
        await SentTo<ResolveTree>(Addresses.TopologyQueue, m => m.OperationId == id);

        await PublishToOperations(
            new BroadcastRequested(id, "vmm-9", BroadcastMode.Duplicate, 4, 1024, "other", "second", Clock.GetUtcNow()));

        var operation = await OperationIn(id, m => m.ResolvingTree);
        Assert.Equal("first", operation.Reason);
        Assert.Equal(TestTree.Root, operation.RootVmmId);
        Assert.Single(operation.History);
        Assert.Single(Harness.Sent.Select<ResolveTree>());
    }
}
