using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_root_agent_does_not_answer : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_duplicate_when_the_confirm_timeout_passes()
    {
        var watchId = await WatchDeadline("wl-1");
        await PassDeadlineUnrecorded(watchId);
        var timer = await ConfirmTimer(watchId);

        Clock.SetUtcNow(timer.FireAt);
        await Publish(Fire(timer.TimerId, watchId, DeadlineWatchStateMachine.ConfirmPurpose));

        var watch = await WatchIn(watchId, m => m.Duplicating);
        Assert.Equal(DeadlineWatchActivities.DuplicationOf(watchId), watch.OperationId);
        Assert.Contains("vmm-0's agent did not answer within 00:00:10", watch.History[^1].Note);
        var request = await Published<BroadcastRequested>(m => m.OperationId == watch.OperationId);
        Assert.Equal(BroadcastMode.Duplicate, request.Mode);
        Assert.Null(watch.TimerId);
    }

    [Fact]
    public async Task Should_not_duplicate_when_the_ledger_learned_of_the_completion_meanwhile()
    {
        var watchId = await WatchDeadline("wl-1");
        await PassDeadlineUnrecorded(watchId);
        var timer = await ConfirmTimer(watchId);
        var completedAt = Clock.GetUtcNow().AddSeconds(-3);
        await RecordCompletion("wl-1", completedAt);

        Clock.SetUtcNow(timer.FireAt);
        await Publish(Fire(timer.TimerId, watchId, DeadlineWatchStateMachine.ConfirmPurpose));

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        Assert.Equal(completedAt, watch.CompletedAt);
        Assert.Contains("found in the workload ledger", watch.History[^1].Note);
        Assert.False(await AnyDuplicationRequested());
    }

    [Fact]
    public async Task Should_ignore_the_agents_answer_when_it_comes_after_the_decision()
    {
        var watchId = await WatchDeadline("wl-1");
        var query = await PassDeadlineUnrecorded(watchId);
        var timer = await ConfirmTimer(watchId);
        await Publish(Fire(timer.TimerId, watchId, DeadlineWatchStateMachine.ConfirmPurpose));
        await WatchIn(watchId, m => m.Duplicating);

        await PublishToWatches(new WorkloadStatusReported(query.WatchId, query.WorkloadId, query.VmmId, WorkloadStatus.Completed, Clock.GetUtcNow()));

        var watch = await WatchIn(watchId, m => m.Duplicating);
        Assert.Equal(3, watch.History.Count);
        await AssertNoFaults();
    }
}
