using Treecast.Contracts;
using Treecast.TestSupport.Harness;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_cancel_comes_too_late : SagaSpecification
{
    [Fact]
    public async Task Should_note_and_ignore_it_while_the_copies_are_being_resumed()
    {
        var id = await Transferring(BroadcastMode.Duplicate);
        await Receive(id, TestTree.Receivers);
        await OperationIn(id, m => m.Duplicating);

        await PublishToOperations(new CancelOperation(id, "ops@example", "too late", Clock.GetUtcNow()));

        var operation = await OperationIn(id, m => m.Duplicating);
        Assert.Equal("cancel requested by ops@example: too late; ignored: the copies are being resumed", operation.History[^1].Note);
        Assert.Empty(Harness.Sent.Select<CancelTransfer>());
        await ResumeEverywhere(id);
        await OperationIn(id, m => m.Duplicated);
    }

    [Fact]
    public async Task Should_ignore_it_after_the_end()
    {
        var operation = await RunToTheEnd(BroadcastMode.Broadcast);
        var id = operation.CorrelationId;

        await PublishToOperations(new CancelOperation(id, "ops@example", null, Clock.GetUtcNow()));

        var ended = await OperationIn(id, m => m.Completed);
        Assert.Equal(5, ended.History.Count);
        Assert.Null(ended.Cancel);
        Assert.Empty(Harness.Sent.Select<CancelTransfer>());
        Assert.Single(Harness.Published.Select<BroadcastOperationFinished>());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_discard_a_cancel_of_an_operation_it_never_had()
    {
        var unknown = Guid.NewGuid();
        await Publish(new CancelOperation(unknown, "ops@example", null, Clock.GetUtcNow()));

        Assert.True(await Harness.Consumed.ShowsAsync<CancelOperation>(m => m.OperationId == unknown));
        Assert.Empty(Harness.Sent.Select<CancelTransfer>());
        await AssertNoFaults();
    }
}
