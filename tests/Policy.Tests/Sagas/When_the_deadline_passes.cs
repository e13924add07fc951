using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_the_deadline_passes : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_request_a_duplicate_broadcast_of_the_root()
    {
        var watchId = await WatchDeadline("wl-1");

        var watch = await DuplicateAfterTheDeadline(watchId);

        var request = await Published<BroadcastRequested>(m => m.OperationId == watch.OperationId);
        Assert.Equal(
            new BroadcastRequested(
                DeadlineWatchActivities.DuplicationOf(watchId),
                TestTree.Root,
                BroadcastMode.Duplicate,
                2,
                65536,
                "deadline-safeguard",
                "workload wl-1 missed its 00:10:00 deadline",
                Clock.GetUtcNow()),
            request);
        Assert.Null(watch.TimerId);
        Assert.Null(watch.CompletedAt);
    }

    [Fact]
    public async Task Should_duplicate_on_every_vmm()
    {
        var watchId = await WatchDeadline();
        var operationId = (await DuplicateAfterTheDeadline(watchId)).OperationId!.Value;

        // The broadcast operation saga picks the request up; play the topology service and the agents.
        await OperationIn(operationId, m => m.ResolvingTree);
        await ResolveTree(operationId, TestTree.Build());
        await Announce(operationId);
        await ReadyEveryReceiver(operationId);
        await ReceiveOnEveryReceiver(operationId);
        await OperationIn(operationId, m => m.Duplicating);
        await ResumeEverywhere(operationId);
        await OperationIn(operationId, m => m.Duplicated);

        var watch = await WatchIn(watchId, m => m.Duplicated);
        Assert.Equal(["Watching", "Confirming", "Duplicating", "Duplicated"], watch.History.Select(h => h.State));
        Assert.NotNull(watch.FinishedAt);
        Assert.Null(watch.FailureReason);
        Assert.Equal(4, Harness.Sent.Select<ResumeVms>().Count());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_fail_when_the_duplication_fails()
    {
        var watchId = await WatchDeadline();
        var operationId = (await DuplicateAfterTheDeadline(watchId)).OperationId!.Value;
        await OperationIn(operationId, m => m.ResolvingTree);

        await Publish(new TreeResolutionFailed(operationId, TestTree.Root, "no live VMM besides vmm-0"));

        var watch = await WatchIn(watchId, m => m.Failed);
        Assert.Contains("no live VMM besides vmm-0", watch.FailureReason);
        Assert.Equal(["Watching", "Confirming", "Duplicating", "Failed"], watch.History.Select(h => h.State));
    }

    [Fact]
    public async Task Should_ignore_a_timer_it_did_not_schedule()
    {
        var watchId = await WatchDeadline();

        await PublishToWatches(Fire(Guid.NewGuid(), watchId, "deadline"));

        var watch = await WatchIn(watchId, m => m.Watching);
        Assert.NotNull(watch.TimerId);
        Assert.False(await Harness.Published.Any<BroadcastRequested>());
        Assert.Empty(SentTo<QueryWorkload>(Addresses.AgentQueue(TestTree.Root)));
    }

    [Fact]
    public async Task Should_ignore_a_completion_that_comes_too_late()
    {
        var watchId = await WatchDeadline("wl-late");
        await DuplicateAfterTheDeadline(watchId);

        await PublishToWatches(new WorkloadCompleted("wl-late", TestTree.Root, Clock.GetUtcNow()));

        var watch = await WatchIn(watchId, m => m.Duplicating);
        Assert.Equal(3, watch.History.Count);
        Assert.Null(watch.FinishedAt);
    }
}
