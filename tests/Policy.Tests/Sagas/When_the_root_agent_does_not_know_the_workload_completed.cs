using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_root_agent_does_not_know_the_workload_completed : DeadlineWatchSpecification
{
    [Theory]
    [InlineData(WorkloadStatus.Running, "vmm-0's agent reports workload wl-1 Running")]
    [InlineData(WorkloadStatus.Unknown, "vmm-0's agent reports workload wl-1 Unknown")]
    public async Task Should_duplicate_at_once(WorkloadStatus status, string reason)
    {
        var watchId = await WatchDeadline("wl-1");
        var query = await PassDeadlineUnrecorded(watchId);
        var timer = await ConfirmTimer(watchId);

        await AnswerAsRootAgent(query, status);

        var watch = await WatchIn(watchId, m => m.Duplicating);
        Assert.Equal(DeadlineWatchActivities.DuplicationOf(watchId), watch.OperationId);
        Assert.Contains(reason, watch.History[^1].Note);
        await SentTo<CancelTimer>(Addresses.SchedulerQueue, m => m.TimerId == timer.TimerId);
        Assert.Null(watch.TimerId);
    }

    [Fact]
    public async Task Should_not_duplicate_when_the_ledger_holds_the_completion_after_all()
    {
        var watchId = await WatchDeadline("wl-1");
        var query = await PassDeadlineUnrecorded(watchId);
        await RecordCompletion("wl-1", Clock.GetUtcNow().AddSeconds(-1));

        await AnswerAsRootAgent(query, WorkloadStatus.Unknown);

        await WatchIn(watchId, m => m.CompletedInTime);
        Assert.False(await AnyDuplicationRequested());
    }
}
