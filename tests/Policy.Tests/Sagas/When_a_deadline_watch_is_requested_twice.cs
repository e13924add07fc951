using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_deadline_watch_is_requested_twice : SagaSpecification
{
    [Fact]
    public async Task Should_keep_the_first_deadline()
    {
        var watchId = await WatchDeadline("wl-1");
        await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.CorrelationId == watchId);

        await PublishToWatches(
            new DeadlineWatchRequested(watchId, "wl-1", TestTree.Root, TimeSpan.FromHours(1), 2, 65536, "deadline-safeguard", Clock.GetUtcNow()));

        var watch = await WatchIn(watchId, m => m.Watching);
        Assert.Equal(Deadline, watch.Deadline);
        Assert.Single(watch.History);
        Assert.Single(Harness.Sent.Select<ScheduleTimer>(), m => m.Context.Message.CorrelationId == watchId);
    }
}
