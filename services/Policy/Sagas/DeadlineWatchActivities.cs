using MassTransit;
using Microsoft.Extensions.Logging;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>The steps every transition of <see cref="DeadlineWatchStateMachine"/> is built from.</summary>
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

    public static EventActivityBinder<DeadlineWatchState, T> Enter<T>(
        this EventActivityBinder<DeadlineWatchState, T> binder,
        State state,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<DeadlineWatchState, T>, string> note)
        where T : class =>
        binder
            .TransitionTo(state)
            .Then(context =>
            {
                var text = note(context);
                context.Saga.History.Add(new StateTransition(context.Saga.CurrentState, clock.GetUtcNow(), text));
                logger.LogInformation(
                    "Watch {WatchId} {State}: {Note}",
                    context.Saga.CorrelationId,
                    context.Saga.CurrentState,
                    text);
            });

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
            .Enter(final, clock, logger, note)
            .Then(context => context.Saga.FinishedAt = clock.GetUtcNow());
}
