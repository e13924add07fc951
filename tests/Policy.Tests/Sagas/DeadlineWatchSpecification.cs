using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Treecast.Contracts;
using Treecast.Policy.Sagas;
using Treecast.Policy.Workloads;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// The deadline watch with the parts it decides from: the workload ledger (written as the policy service's
/// completion consumer writes it), the scheduler's timers and the root's agent, each played by the test.
/// </summary>
public abstract class DeadlineWatchSpecification : SagaSpecification
{
    /// <summary>The confirm timeout when <c>Policy:Deadline:ConfirmTimeout</c> is not set.</summary>
    protected static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(10);

    protected IWorkloadLedger Ledger => Harness.Scope.ServiceProvider.GetRequiredService<IWorkloadLedger>();

    /// <summary>Records a completion as the policy service's <c>WorkloadCompletedConsumer</c> does, first of all.</summary>
    protected Task RecordCompletion(string workloadId, DateTimeOffset completedAt) =>
        Ledger.RecordCompletionAsync(new WorkloadCompletion(workloadId, TestTree.Root, completedAt), CancellationToken.None);

    /// <summary>Moves the clock to the watch's deadline and fires its deadline timer, as the scheduler would.</summary>
    protected async Task<TimerFired> PassDeadline(Guid watchId)
    {
        var watching = await WatchIn(watchId, m => m.Watching);
        Clock.SetUtcNow(watching.RequestedAt + watching.Deadline);
        var fired = Fire(watching.TimerId!.Value, watchId, DeadlineWatchStateMachine.TimerPurpose);
        await Publish(fired);
        return fired;
    }

    /// <summary>Passes the deadline and waits until the watch asks the root's agent; returns what it asked.</summary>
    protected async Task<QueryWorkload> PassDeadlineUnrecorded(Guid watchId)
    {
        await PassDeadline(watchId);
        await WatchIn(watchId, m => m.Confirming);
        return await SentTo<QueryWorkload>(Addresses.AgentQueue(TestTree.Root), q => q.WatchId == watchId);
    }

    /// <summary>Answers the watch's question as the root's agent would.</summary>
    protected Task AnswerAsRootAgent(QueryWorkload query, WorkloadStatus status, DateTimeOffset? completedAt = null) =>
        Publish(new WorkloadStatusReported(query.WatchId, query.WorkloadId, query.VmmId, status, completedAt));

    /// <summary>The confirm timer the watch scheduled when it asked the root's agent.</summary>
    protected Task<ScheduleTimer> ConfirmTimer(Guid watchId) =>
        SentTo<ScheduleTimer>(Addresses.SchedulerQueue, t => t.CorrelationId == watchId && t.Purpose == DeadlineWatchStateMachine.ConfirmPurpose);

    /// <summary>Drives a watch past its deadline with no completion anywhere, until it duplicates.</summary>
    protected async Task<DeadlineWatchState> DuplicateAfterTheDeadline(Guid watchId)
    {
        var query = await PassDeadlineUnrecorded(watchId);
        await AnswerAsRootAgent(query, WorkloadStatus.Running);
        return await WatchIn(watchId, m => m.Duplicating);
    }

    protected async Task<bool> AnyDuplicationRequested() =>
        await Harness.Published.Any<BroadcastRequested>(m => m.Context.Message.Mode == BroadcastMode.Duplicate);
}
