using MassTransit.Testing;
using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_deadline_timer_is_redelivered : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_not_take_it_for_the_agents_silence()
    {
        var watchId = await WatchDeadline("wl-1");
        var fired = await PassDeadline(watchId);
        await WatchIn(watchId, m => m.Confirming);

        await PublishToWatches(fired);

        var watch = await WatchIn(watchId, m => m.Confirming);
        Assert.Equal(2, watch.History.Count);
        Assert.Single(SentTo<QueryWorkload>(Addresses.AgentQueue(TestTree.Root)));
        Assert.False(await AnyDuplicationRequested());
    }

    [Fact]
    public async Task Should_duplicate_exactly_once()
    {
        var watchId = await WatchDeadline("wl-1");
        var deadlineFired = await PassDeadline(watchId);
        var query = await SentTo<QueryWorkload>(Addresses.AgentQueue(TestTree.Root), q => q.WatchId == watchId);
        var timer = await ConfirmTimer(watchId);
        await AnswerAsRootAgent(query, WorkloadStatus.Running);
        await WatchIn(watchId, m => m.Duplicating);

        // Everything that led to the duplication, delivered again.
        await PublishToWatches(deadlineFired);
        await PublishToWatches(Fire(timer.TimerId, watchId, DeadlineWatchStateMachine.ConfirmPurpose));
        await PublishToWatches(new WorkloadStatusReported(watchId, "wl-1", TestTree.Root, WorkloadStatus.Running, null));
        await PublishToWatches(new DeadlineWatchRequested(watchId, "wl-1", TestTree.Root, Deadline, 2, 65536, "deadline-safeguard", Clock.GetUtcNow()));

        var watch = await WatchIn(watchId, m => m.Duplicating);
        Assert.Equal(["Watching", "Confirming", "Duplicating"], watch.History.Select(h => h.State));
        await AssertNoFaults();
        var requests = Harness.Published.Select<BroadcastRequested>().Select(m => m.Context.Message).ToList();
        var request = Assert.Single(requests);
        Assert.Equal(DeadlineWatchActivities.DuplicationOf(watchId), request.OperationId);
        Assert.Single(SentTo<QueryWorkload>(Addresses.AgentQueue(TestTree.Root)));
    }
}
