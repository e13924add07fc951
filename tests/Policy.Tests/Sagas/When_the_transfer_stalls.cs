using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// The transfer's timer, with the defaults (progress 150 s, 800 s per GiB, at least 60 s): it is checked against the
/// receivers' progress reports and the budget of the manifest, and replaced in place while the transfer goes on.
/// </summary>
public sealed class When_the_transfer_stalls : SagaSpecification
{
    private const long GiB = 1024L * 1024 * 1024;

    // 1.5 GiB: a budget of 1,200 s.
    private static readonly IReadOnlyList<VmImage> Large =
    [
        new("vm-a", GiB, new string('a', 64)),
        new("vm-b", GiB / 2, new string('b', 64)),
    ];

    [Fact]
    public async Task Should_time_out_when_no_receiver_reports_progress_for_150_seconds()
    {
        var id = await Transferring(Large);
        var started = Clock.GetUtcNow();
        var timer = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:Transferring");
        Assert.Equal(started + TimeSpan.FromSeconds(150), timer.FireAt);

        Clock.Advance(TimeSpan.FromSeconds(150));
        await Publish(Fire(timer.TimerId, id, "broadcast:Transferring"));

        var operation = await OperationIn(id, m => m.TimedOut);
        Assert.Equal($"step Transferring made no progress for 00:02:30 (last at {started:O})", operation.FailureReason);
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.TimedOut, finished.State);
    }

    [Fact]
    public async Task Should_go_on_while_progress_arrives_and_check_again_150_seconds_after_the_last()
    {
        var id = await Transferring(Large);
        var timer = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:Transferring");

        Clock.Advance(TimeSpan.FromSeconds(100));
        var progressAt = Clock.GetUtcNow();
        await Publish(new TransferProgressed(id, "vmm-3", GiB / 4, Large.Sum(v => v.Bytes)));
        await Reported(id, "vmm-3");
        Clock.Advance(TimeSpan.FromSeconds(50));
        await PublishToOperations(Fire(timer.TimerId, id, "broadcast:Transferring"));

        var rearmed = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:Transferring" && m.FireAt == progressAt + TimeSpan.FromSeconds(150));
        Assert.Equal(timer.TimerId, rearmed.TimerId);
        var operation = await OperationIn(id, m => m.Transferring);
        Assert.Equal(rearmed.FireAt, operation.StepDueAt);
        Assert.Null(operation.FailureReason);

        // The first fire, redelivered, is stale now.
        await PublishToOperations(Fire(timer.TimerId, id, "broadcast:Transferring") with { ScheduledFor = timer.FireAt });
        Assert.Equal("Transferring", Operations.Sagas.Contains(id).CurrentState);

        Clock.Advance(TimeSpan.FromSeconds(100));
        await Publish(Fire(timer.TimerId, id, "broadcast:Transferring"));
        Assert.Contains("made no progress for 00:02:30", (await OperationIn(id, m => m.TimedOut)).FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_time_out_when_the_transfer_runs_past_800_seconds_per_gib()
    {
        var id = await Transferring(Large);
        var timer = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:Transferring");
        var started = Clock.GetUtcNow();

        // Progress every 100 s keeps the transfer alive; the budget still ends it at 1,200 s.
        var bytes = 0L;
        while (Clock.GetUtcNow() < started + TimeSpan.FromSeconds(1200))
        {
            Clock.Advance(TimeSpan.FromSeconds(100));
            bytes += 1024;
            await Publish(new TransferProgressed(id, "vmm-1", bytes, Large.Sum(v => v.Bytes)));
            await Reported(id, "vmm-1", bytes);
            var due = Operations.Sagas.Contains(id).StepDueAt!.Value;
            if (Clock.GetUtcNow() >= due)
            {
                await PublishToOperations(Fire(timer.TimerId, id, "broadcast:Transferring"));
            }
        }

        var operation = await OperationIn(id, m => m.TimedOut);
        Assert.Equal(started + TimeSpan.FromSeconds(1200), Clock.GetUtcNow());
        Assert.Equal("step Transferring exceeded its budget of 00:20:00 for 1.5 GiB (00:13:20 per GiB, at least 00:01:00)", operation.FailureReason);
        var checks = Harness.Sent.Select<ScheduleTimer>().Select(m => m.Context.Message).Where(t => t.Purpose == "broadcast:Transferring").ToList();
        Assert.True(checks.Count > 3, $"the transfer's timer was armed {checks.Count} times");
        Assert.All(checks, t => Assert.Equal(timer.TimerId, t.TimerId));
    }

    [Fact]
    public async Task Should_give_a_small_manifest_the_minimum_budget()
    {
        var id = await Transferring(TestTree.Vms);
        var started = Clock.GetUtcNow();

        var timer = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:Transferring");
        Assert.Equal(started + TimeSpan.FromSeconds(60), timer.FireAt);
        Clock.Advance(TimeSpan.FromSeconds(60));
        await Publish(Fire(timer.TimerId, id, "broadcast:Transferring"));

        Assert.StartsWith("step Transferring exceeded its budget of 00:01:00", (await OperationIn(id, m => m.TimedOut)).FailureReason, StringComparison.Ordinal);
    }

    private async Task<Guid> Transferring(IReadOnlyList<VmImage> vms)
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Publish(new VmsPaused(id, TestTree.Root, vms));
        await OperationIn(id, m => m.Announcing);
        await ReadyEveryReceiver(id);
        return id;
    }

    private async Task Reported(Guid id, string vmmId, long bytes = 0)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(await Progress.ForOperationAsync(id, CancellationToken.None)).Any(r => r.VmmId == vmmId && r.BytesReceived >= bytes && r.LastProgressAt == Clock.GetUtcNow()))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"progress of {vmmId} never recorded");
            await Task.Delay(20);
        }
    }
}
