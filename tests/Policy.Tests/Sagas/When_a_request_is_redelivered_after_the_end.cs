using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_request_is_redelivered_after_the_end : SagaSpecification
{
    [Fact]
    public async Task Should_publish_the_outcome_again_and_start_nothing()
    {
        var operation = await RunToTheEnd(BroadcastMode.Broadcast);
        var id = operation.CorrelationId;
        var first = await Published<BroadcastOperationFinished>(m => m.OperationId == id);

        await PublishToOperations(new BroadcastRequested(id, TestTree.Root, BroadcastMode.Broadcast, 2, 65536, "degraded-host", "host.degraded on vmm-0", Clock.GetUtcNow()));

        Assert.True(await Eventually(() => Harness.Published.Select<BroadcastOperationFinished>().Count(m => m.Context.Message.OperationId == id) == 2));
        var again = Harness.Published.Select<BroadcastOperationFinished>().Last(m => m.Context.Message.OperationId == id).Context.Message;
        Assert.Equal(first.State, again.State);
        Assert.Equal(first.FinishedAt, again.FinishedAt);
        Assert.Equal(first.Hosts.Select(h => h.VmmId), again.Hosts.Select(h => h.VmmId));
        Assert.Single(Harness.Sent.Select<ResolveTree>());
        Assert.Single(Harness.Sent.Select<StartTransfer>());
        Assert.Equal(5, (await OperationIn(id, m => m.Completed)).History.Count);
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_republish_a_failure_with_its_reason()
    {
        var id = await RequestBroadcast(BroadcastMode.Duplicate);
        await Publish(new TreeResolutionFailed(id, TestTree.Root, "VMM vmm-0 is not registered"));
        await OperationIn(id, m => m.Failed);

        await PublishToOperations(new BroadcastRequested(id, TestTree.Root, BroadcastMode.Duplicate, 2, 65536, "degraded-host", "again", Clock.GetUtcNow()));

        Assert.True(await Eventually(() => Harness.Published.Select<BroadcastOperationFinished>().Count() == 2));
        Assert.All(
            Harness.Published.Select<BroadcastOperationFinished>(),
            m => Assert.Equal("ResolveTree failed for vmm-0: VMM vmm-0 is not registered", m.Context.Message.FailureReason));
    }
}
