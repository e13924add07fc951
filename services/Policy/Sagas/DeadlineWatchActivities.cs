using MassTransit;
using Microsoft.Extensions.Logging;
using Treecast.Contracts;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Workloads;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The steps every transition of <see cref="DeadlineWatchStateMachine"/> is built from. As for broadcast
/// operations, the state changes last so that whoever sees the new state sees the instance complete.
/// </summary>
public static class DeadlineWatchActivities
{
    private static readonly Action<ILogger, Guid, string, string, Exception?> LogTransition =
        LoggerMessage.Define<Guid, string, string>(LogLevel.Information, default, "Watch {WatchId} {State}: {Note}");

    /// <summary>The one duplication a watch may start: redelivered timers and reports all name this operation.</summary>
    public static Guid DuplicationOf(Guid watchId) => DeterministicGuid.Create($"duplicate/{watchId}");

    /// <summary>When the workload must have completed.</summary>
    public static DateTimeOffset DeadlineOf(DeadlineWatchState watch)
    {
        ArgumentNullException.ThrowIfNull(watch);
        return watch.RequestedAt + watch.Deadline;
    }

    /// <summary>"workload completed at …", saying so when that was after the deadline, and how the watch learned it.</summary>
    public static string CompletionNote(DeadlineWatchState watch, string source)
    {
        ArgumentNullException.ThrowIfNull(watch);
        var late = watch.CompletedAt > DeadlineOf(watch) ? $", after its deadline {DeadlineOf(watch):O}" : string.Empty;
        return $"workload completed at {watch.CompletedAt:O}{late} ({source})";
    }

    public static EventActivityBinder<DeadlineWatchState, T> ScheduleDeadline<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder)
        where T : class =>
        binder.StartTimer(DeadlineWatchStateMachine.TimerPurpose, context => DeadlineOf(context.Saga));

    /// <summary>Keeps <paramref name="completedAt"/> when it is the earliest completion the watch has heard of.</summary>
    public static void Completed(DeadlineWatchState watch, DateTimeOffset completedAt)
    {
        ArgumentNullException.ThrowIfNull(watch);
        if (watch.CompletedAt is null || completedAt < watch.CompletedAt)
        {
            watch.CompletedAt = completedAt;
        }
    }

    /// <summary>Reads the workload ledger: a completion consumed before the watch existed, or before it could see it, is there.</summary>
    public static EventActivityBinder<DeadlineWatchState, T> ReadLedger<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder,
        IWorkloadLedger ledger)
        where T : class =>
        binder.ThenAsync(async context =>
        {
            if (await ledger.FindCompletionAsync(context.Saga.WorkloadId, context.CancellationToken) is { } completion)
            {
                Completed(context.Saga, completion.CompletedAt);
            }
        });

    /// <summary>Asks the root's agent whether the workload completed; its answer (or the lack of one) decides.</summary>
    public static EventActivityBinder<DeadlineWatchState, T> AskRootAgent<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder,
        TimeProvider clock,
        TimeSpan confirmTimeout)
        where T : class =>
        binder
            .Send(RootAgent, context => new QueryWorkload(context.Saga.CorrelationId, context.Saga.WorkloadId, context.Saga.RootVmmId))
            .StartTimer(DeadlineWatchStateMachine.ConfirmPurpose, _ => clock.GetUtcNow() + confirmTimeout);

    /// <summary>Requests the watch's one duplication: a duplicate-mode broadcast of the root's VMs.</summary>
    public static EventActivityBinder<DeadlineWatchState, T> Duplicate<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder,
        State duplicating,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<DeadlineWatchState, T>, string> why)
        where T : class =>
        binder
            .CancelPendingTimer()
            .Then(context => context.Saga.OperationId = DuplicationOf(context.Saga.CorrelationId))
            .Publish(context => new BroadcastRequested(
                context.Saga.OperationId!.Value,
                context.Saga.RootVmmId,
                BroadcastMode.Duplicate,
                context.Saga.FanOut,
                context.Saga.ChunkSizeBytes,
                context.Saga.PolicyName,
                $"workload {context.Saga.WorkloadId} missed its {context.Saga.Deadline} deadline",
                clock.GetUtcNow(),
                context.Saga.Stripes))
            .Enter(duplicating, clock, logger, context =>
                $"{why(context)}; duplicating {context.Saga.RootVmmId} in operation {context.Saga.OperationId}");

    /// <summary>Records the transition in the history and the log, then makes it.</summary>
    public static EventActivityBinder<DeadlineWatchState, T> Enter<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder,
        State state,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<DeadlineWatchState, T>, string> note)
        where T : class =>
        binder
            .RecordTransition(state, clock, logger, LogTransition, note)
            .TransitionTo(state);

    /// <summary>Moves to a final state; the watch no longer needs its timer.</summary>
    public static EventActivityBinder<DeadlineWatchState, T> Finish<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder,
        State final,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<DeadlineWatchState, T>, string> note)
        where T : class =>
        binder
            .CancelPendingTimer()
            .Then(context => context.Saga.FinishedAt = clock.GetUtcNow())
            .Enter(final, clock, logger, note);

    private static Uri RootAgent<T>(BehaviorContext<DeadlineWatchState, T> context)
        where T : class =>
        Addresses.Agent(context.Saga.RootVmmId);
}
