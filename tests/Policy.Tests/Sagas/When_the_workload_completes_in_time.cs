using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_workload_completes_in_time : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_cancel_the_deadline_timer()
    {
        var requestedAt = Clock.GetUtcNow();
        var watchId = await WatchDeadline("wl-7");
        var timer = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.CorrelationId == watchId);
        Assert.Equal("deadline", timer.Purpose);
        Assert.Equal(requestedAt + Deadline, timer.FireAt);

        Clock.Advance(TimeSpan.FromMinutes(4));
        await Publish(new WorkloadCompleted("wl-7", TestTree.Root, Clock.GetUtcNow()));

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        await SentTo<CancelTimer>(Addresses.SchedulerQueue, m => m.TimerId == timer.TimerId);
        Assert.Null(watch.TimerId);
        Assert.Null(watch.OperationId);
        Assert.Equal(Clock.GetUtcNow(), watch.FinishedAt);
        Assert.Equal(["Watching", "CompletedInTime"], watch.History.Select(h => h.State));
        Assert.False(await Harness.Published.Any<BroadcastRequested>());
    }

    [Fact]
    public async Task Should_not_duplicate_when_the_cancelled_timer_fires_anyway()
    {
        var watchId = await WatchDeadline("wl-8");
        var timerId = (await WatchIn(watchId, m => m.Watching)).TimerId!.Value;
        await Publish(new WorkloadCompleted("wl-8", TestTree.Root, Clock.GetUtcNow()));
        await WatchIn(watchId, m => m.CompletedInTime);

        // The scheduler may already have fired the timer when the cancel arrives.
        await PublishToWatches(Fire(timerId, watchId, "deadline"));

        Assert.NotNull(await Watches.Exists(watchId, m => m.CompletedInTime));
        Assert.False(await Harness.Published.Any<BroadcastRequested>());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_leave_other_workloads_watched()
    {
        var finishing = await WatchDeadline("wl-a");
        var other = await WatchDeadline("wl-b");

        await Publish(new WorkloadCompleted("wl-a", TestTree.Root, Clock.GetUtcNow()));
        await WatchIn(finishing, m => m.CompletedInTime);

        Assert.NotNull(await Watches.Exists(other, m => m.Watching));
    }
}
