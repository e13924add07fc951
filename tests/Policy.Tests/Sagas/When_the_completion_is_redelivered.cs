using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_completion_is_redelivered : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_stay_completed_in_time_with_the_first_completion()
    {
        var watchId = await WatchDeadline("wl-again");
        var completedAt = Clock.GetUtcNow().AddMinutes(2);
        await Publish(new WorkloadCompleted("wl-again", TestTree.Root, completedAt));
        await WatchIn(watchId, m => m.CompletedInTime);

        await PublishToWatches(new WorkloadCompleted("wl-again", TestTree.Root, completedAt));
        await PublishToWatches(new WorkloadCompleted("wl-again", TestTree.Root, completedAt.AddMinutes(1)));

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        Assert.Equal(completedAt, watch.CompletedAt);
        Assert.Equal(["Watching", "CompletedInTime"], watch.History.Select(h => h.State));
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_not_duplicate_when_the_deadline_timer_fires_afterwards()
    {
        var watchId = await WatchDeadline("wl-again");
        var timerId = (await WatchIn(watchId, m => m.Watching)).TimerId!.Value;
        await Publish(new WorkloadCompleted("wl-again", TestTree.Root, Clock.GetUtcNow()));
        await WatchIn(watchId, m => m.CompletedInTime);
        await PublishToWatches(new WorkloadCompleted("wl-again", TestTree.Root, Clock.GetUtcNow()));

        Clock.Advance(Deadline);
        await PublishToWatches(Fire(timerId, watchId, "deadline"));

        Assert.NotNull(await Watches.Exists(watchId, m => m.CompletedInTime));
        Assert.Empty(SentTo<QueryWorkload>(Addresses.AgentQueue(TestTree.Root)));
        Assert.False(await AnyDuplicationRequested());
        await AssertNoFaults();
    }
}
