using MassTransit;
using Microsoft.Extensions.Logging;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The steps every transition of <see cref="DeadlineWatchStateMachine"/> is built from. As for broadcast
/// operations, the state changes last so that whoever sees the new state sees the instance complete.
/// </summary>
public static class DeadlineWatchActivities
{
    private static readonly Action<ILogger, Guid, string, string, Exception?> LogTransition =
        LoggerMessage.Define<Guid, string, string>(LogLevel.Information, default, "Watch {WatchId} {State}: {Note}");

    public static EventActivityBinder<DeadlineWatchState, T> ScheduleDeadline<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder)
        where T : class =>
        binder.StartTimer(DeadlineWatchStateMachine.TimerPurpose, context => context.Saga.RequestedAt + context.Saga.Deadline);

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
}
