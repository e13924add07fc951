using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// The order the issue saw duplicate finished workloads: the completion is consumed just before its watch exists,
/// so the watch never sees the completion message; the ledger holds it.
/// </summary>
public sealed class When_the_completion_arrives_before_the_watch : DeadlineWatchSpecification
{
    [Fact]
    public async Task Should_complete_in_time_at_once_without_a_timer()
    {
        var completedAt = Clock.GetUtcNow();
        await RecordCompletion("wl-early", completedAt);
        await PublishToWatches(new WorkloadCompleted("wl-early", TestTree.Root, completedAt));

        var watchId = Guid.NewGuid();
        await Publish(new DeadlineWatchRequested(watchId, "wl-early", TestTree.Root, Deadline, 2, 65536, "deadline-safeguard", Clock.GetUtcNow()));

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        Assert.Equal(completedAt, watch.CompletedAt);
        Assert.Null(watch.TimerId);
        var entry = Assert.Single(watch.History);
        Assert.Equal($"workload completed at {completedAt:O} (reported before the watch started)", entry.Note);
        await AssertNoFaults();
        Assert.DoesNotContain(SentTo<ScheduleTimer>(Addresses.SchedulerQueue), t => t.CorrelationId == watchId);
        Assert.False(await AnyDuplicationRequested());
    }

    [Fact]
    public async Task Should_complete_in_time_when_the_ledger_learns_of_it_only_after_the_watch_started()
    {
        // The watch checked the ledger a moment before the completion consumer recorded the completion, and
        // the completion message reached the watch's queue before the watch existed.
        var watchId = await WatchDeadline("wl-race");
        var completedAt = Clock.GetUtcNow().AddMilliseconds(-100);
        await RecordCompletion("wl-race", completedAt);

        await PassDeadline(watchId);

        var watch = await WatchIn(watchId, m => m.CompletedInTime);
        Assert.Equal(completedAt, watch.CompletedAt);
        Assert.Equal(["Watching", "CompletedInTime"], watch.History.Select(h => h.State));
        Assert.Contains("found in the workload ledger when the deadline passed", watch.History[^1].Note);
        Assert.Empty(SentTo<QueryWorkload>(Addresses.AgentQueue(TestTree.Root)));
        Assert.False(await AnyDuplicationRequested());
    }

    [Fact]
    public async Task Should_keep_other_workloads_watched()
    {
        await RecordCompletion("wl-done", Clock.GetUtcNow());

        var watchId = await WatchDeadline("wl-other");

        var watch = await WatchIn(watchId, m => m.Watching);
        Assert.Null(watch.CompletedAt);
        Assert.NotNull(watch.TimerId);
    }
}
