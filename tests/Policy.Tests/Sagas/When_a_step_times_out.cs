using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_a_step_times_out : SagaSpecification
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } =
        new Dictionary<string, string?> { ["Policy:Timeouts:Pause"] = "00:00:05" };

    [Fact]
    public async Task Should_schedule_each_step_timer_from_configuration()
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
        Assert.Equal(pausing.TimerId, (await OperationIn(id, m => m.Pausing)).StepTimerId);
        await SentTo<CancelTimer>(Addresses.SchedulerQueue, m => m.TimerId == resolving.TimerId);
    }

    [Fact]
    public async Task Should_fail_when_the_current_step_timer_fires()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        var timer = (await OperationIn(id, m => m.Pausing)).StepTimerId!.Value;

        Clock.Advance(TimeSpan.FromSeconds(5));
        await Publish(Fire(timer, id, "broadcast:Pausing"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal("step Pausing timed out after 00:00:05", operation.FailureReason);
        Assert.Null(operation.StepTimerId);
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.Failed, finished.State);
        Assert.Equal(Clock.GetUtcNow(), finished.FinishedAt);
    }

    [Fact]
    public async Task Should_ignore_a_timer_of_an_earlier_step()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        var staleTimer = (await OperationIn(id, m => m.ResolvingTree)).StepTimerId!.Value;
        await ResolveTree(id, TestTree.Build());

        await PublishToOperations(Fire(staleTimer, id, "broadcast:ResolvingTree"));

        var operation = await OperationIn(id, m => m.Pausing);
        Assert.Equal(2, operation.History.Count);
        Assert.Null(operation.FailureReason);
    }
}
