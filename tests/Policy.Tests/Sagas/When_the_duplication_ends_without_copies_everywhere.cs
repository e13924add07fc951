using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_duplication_ends_without_copies_everywhere : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_end_cancelled_when_the_duplication_was_cancelled()
    {
        var watchId = await WatchDeadline("wl-1");
        var operationId = (await DuplicateAfterTheDeadline(watchId)).OperationId!.Value;

        await Publish(Finished(operationId, OperationFinalState.Cancelled, "cancelled by ops at 2026-11-25T09:12:00Z: maintenance"));

        var watch = await WatchIn(watchId, m => m.Cancelled);
        Assert.Equal("cancelled by ops at 2026-11-25T09:12:00Z: maintenance", watch.FailureReason);
        Assert.Equal(["Watching", "Confirming", "Duplicating", "Cancelled"], watch.History.Select(h => h.State));
        Assert.NotNull(watch.FinishedAt);
    }

    [Theory]
    [InlineData(OperationFinalState.Failed, "root vmm-0 lost")]
    [InlineData(OperationFinalState.TimedOut, "step announce timed out after 00:01:00")]
    [InlineData(OperationFinalState.CompletedWithFailures, "vmm-2: relay failed: connection refused")]
    public async Task Should_fail_with_the_operations_reason(OperationFinalState state, string reason)
    {
        var watchId = await WatchDeadline("wl-1");
        var operationId = (await DuplicateAfterTheDeadline(watchId)).OperationId!.Value;

        await Publish(Finished(operationId, state, reason));

        var watch = await WatchIn(watchId, m => m.Failed);
        Assert.Equal(reason, watch.FailureReason);
    }

    [Fact]
    public async Task Should_name_the_final_state_when_the_operation_gives_no_reason()
    {
        var watchId = await WatchDeadline("wl-1");
        var operationId = (await DuplicateAfterTheDeadline(watchId)).OperationId!.Value;

        await Publish(Finished(operationId, OperationFinalState.TimedOut, null));

        var watch = await WatchIn(watchId, m => m.Failed);
        Assert.Equal("duplication ended TimedOut", watch.FailureReason);
    }

    private BroadcastOperationFinished Finished(Guid operationId, OperationFinalState state, string? reason) =>
        new(operationId, BroadcastMode.Duplicate, state, TestTree.Root, TestTree.Build(), TestTree.Vms, [], reason, Clock.GetUtcNow(), Clock.GetUtcNow());
}
