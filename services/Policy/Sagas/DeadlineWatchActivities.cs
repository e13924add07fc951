using MassTransit;
using Microsoft.Extensions.Logging;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The steps every transition of <see cref="DeadlineWatchStateMachine"/> is built from. As for broadcast
/// operations, the state changes last so that whoever sees the new state sees the instance complete.
/// </summary>
public static class DeadlineWatchActivities
{
    public static EventActivityBinder<DeadlineWatchState, T> ScheduleDeadline<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder)
        where T : class =>
        binder
            .Then(context => context.Saga.TimerId = NewId.NextGuid())
            .Send(Addresses.Scheduler, context => new ScheduleTimer(
                context.Saga.TimerId!.Value,
                context.Saga.CorrelationId,
                DeadlineWatchStateMachine.TimerPurpose,
                context.Saga.RequestedAt + context.Saga.Deadline));

    public static EventActivityBinder<DeadlineWatchState, T> CancelDeadline<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder)
        where T : class =>
        binder.If(
            context => context.Saga.TimerId.HasValue,
            pending => pending
                .Send(Addresses.Scheduler, context => new CancelTimer(context.Saga.TimerId!.Value))
                .Then(context => context.Saga.TimerId = null));

    /// <summary>Records the transition in the history and the log, then makes it.</summary>
    public static EventActivityBinder<DeadlineWatchState, T> Enter<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder,
        State state,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<DeadlineWatchState, T>, string> note)
        where T : class =>
        binder
            .Then(context =>
            {
                var text = note(context);
                context.Saga.History.Add(new StateTransition(state.Name, clock.GetUtcNow(), text));
                logger.LogInformation("Watch {WatchId} {State}: {Note}", context.Saga.CorrelationId, state.Name, text);
            })
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
            .CancelDeadline()
            .Then(context => context.Saga.FinishedAt = clock.GetUtcNow())
            .Enter(final, clock, logger, note);
}
