using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>The completion never reached the policy service, but the root's agent saw the workload complete.</summary>
public sealed class When_the_root_agent_reports_completion_at_the_deadline : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_ask_the_root_agent_before_duplicating()
    {
        var watchId = await WatchDeadline("wl-1");

        var query = await PassDeadlineUnrecorded(watchId);

        Assert.Equal(new QueryWorkload(watchId, "wl-1", TestTree.Root), query);
        var timer = await ConfirmTimer(watchId);
        Assert.Equal(Clock.GetUtcNow() + ConfirmTimeout, timer.FireAt);
        var watch = await WatchIn(watchId, m => m.Confirming);
        Assert.Equal(timer.TimerId, watch.TimerId);
        Assert.False(await AnyDuplicationRequested());
    }

    [Fact]
    public async Task Should_complete_in_time_when_the_agent_says_it_completed()
    {
        var watchId = await WatchDeadline("wl-1");
        var completedAt = Clock.GetUtcNow().AddMinutes(9);
        var query = await PassDeadlineUnrecorded(watchId);
        var timer = await ConfirmTimer(watchId);

        await AnswerAsRootAgent(query, WorkloadStatus.Completed, completedAt);

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        Assert.Equal(completedAt, watch.CompletedAt);
        Assert.Null(watch.OperationId);
        Assert.Equal(["Watching", "Confirming", "CompletedInTime"], watch.History.Select(h => h.State));
        Assert.Equal($"workload completed at {completedAt:O} (vmm-0's agent says so)", watch.History[^1].Note);
        await SentTo<CancelTimer>(Addresses.SchedulerQueue, m => m.TimerId == timer.TimerId);
        Assert.False(await AnyDuplicationRequested());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_say_so_when_the_workload_completed_after_its_deadline()
    {
        var watchId = await WatchDeadline("wl-1");
        var query = await PassDeadlineUnrecorded(watchId);
        var completedAt = Clock.GetUtcNow().AddSeconds(2);

        await AnswerAsRootAgent(query, WorkloadStatus.Completed, completedAt);

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        Assert.Contains($"after its deadline {DeadlineWatchActivities.DeadlineOf(watch):O}", watch.History[^1].Note);
        Assert.False(await AnyDuplicationRequested());
    }

    [Fact]
    public async Task Should_complete_in_time_when_the_completion_reaches_the_watch_while_it_asks()
    {
        var watchId = await WatchDeadline("wl-1");
        await PassDeadlineUnrecorded(watchId);
        var completedAt = Clock.GetUtcNow().AddSeconds(-1);

        await Publish(new WorkloadCompleted("wl-1", TestTree.Root, completedAt));

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        Assert.Equal(completedAt, watch.CompletedAt);
        Assert.Null(watch.TimerId);
        Assert.False(await AnyDuplicationRequested());
    }
}
