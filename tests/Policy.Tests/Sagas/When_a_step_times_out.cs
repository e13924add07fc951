using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_step_times_out : SagaSpecification
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } =
        new Dictionary<string, string?> { ["Policy:Timeouts:Pause"] = "00:00:05" };

    [Fact]
    public async Task Should_schedule_each_step_timer_from_configuration_under_one_id()
    {
        var requestedAt = Clock.GetUtcNow();
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        Clock.Advance(TimeSpan.FromSeconds(2));
        await ResolveTree(id, TestTree.Build());

        var resolving = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:ResolvingTree");
        Assert.Equal(id, resolving.CorrelationId);
        Assert.Equal(requestedAt + TimeSpan.FromSeconds(30), resolving.FireAt);
        var pausing = await SentTo<ScheduleTimer>(Addresses.SchedulerQueue, m => m.Purpose == "broadcast:Pausing");
        Assert.Equal(requestedAt + TimeSpan.FromSeconds(7), pausing.FireAt);

        // The scheduler replaces a timer of the same id: no cancel between steps.
        Assert.Equal(resolving.TimerId, pausing.TimerId);
        var operation = await OperationIn(id, m => m.Pausing);
        Assert.Equal(pausing.TimerId, operation.StepTimerId);
        Assert.Equal(pausing.FireAt, operation.StepDueAt);
        Assert.Empty(SentTo<CancelTimer>(Addresses.SchedulerQueue));
    }

    [Fact]
    public async Task Should_end_timed_out_naming_the_step_when_its_timer_fires()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        var timer = (await OperationIn(id, m => m.Pausing)).StepTimerId!.Value;

        Clock.Advance(TimeSpan.FromSeconds(5));
        await Publish(Fire(timer, id, "broadcast:Pausing"));

        var operation = await OperationIn(id, m => m.TimedOut);
        Assert.Equal("step Pausing timed out after 00:00:05", operation.FailureReason);
        Assert.Null(operation.StepTimerId);
        Assert.Equal(["ResolvingTree", "Pausing", "TimedOut"], operation.History.Select(h => h.State));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.TimedOut, finished.State);
        Assert.Equal("step Pausing timed out after 00:00:05", finished.FailureReason);
        Assert.Equal(Clock.GetUtcNow(), finished.FinishedAt);
    }

    [Fact]
    public async Task Should_ignore_the_timer_of_an_earlier_step()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        var staleTimer = (await OperationIn(id, m => m.ResolvingTree)).StepTimerId!.Value;
        await ResolveTree(id, TestTree.Build());

        // Same id (one timer per operation), but the purpose of the step before.
        Clock.Advance(TimeSpan.FromSeconds(30));
        await PublishToOperations(Fire(staleTimer, id, "broadcast:ResolvingTree"));

        var operation = await OperationIn(id, m => m.Pausing);
        Assert.Equal(2, operation.History.Count);
        Assert.Null(operation.FailureReason);
    }

    [Fact]
    public async Task Should_ignore_a_fire_due_before_the_timer_was_last_scheduled()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        var timer = (await OperationIn(id, m => m.Pausing)).StepTimerId!.Value;

        await PublishToOperations(Fire(timer, id, "broadcast:Pausing"));

        var operation = await OperationIn(id, m => m.Pausing);
        Assert.Null(operation.FailureReason);
        Assert.Equal(timer, operation.StepTimerId);
    }
}
