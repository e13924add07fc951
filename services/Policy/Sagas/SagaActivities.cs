using MassTransit;
using Microsoft.Extensions.Logging;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>The steps both sagas share: their one pending scheduler timer, and the history operators read.</summary>
public static class SagaActivities
{
    /// <summary>Schedules a new timer and keeps its id: only that timer's <see cref="TimerFired"/> counts.</summary>
    public static EventActivityBinder<TSaga, T> StartTimer<TSaga, T>(
        this EventActivityBinder<TSaga, T> binder,
        string purpose,
        Func<BehaviorContext<TSaga, T>, DateTimeOffset> fireAt)
        where TSaga : class, ITimedSagaState
        where T : class =>
        binder
            .Then(context => context.Saga.TimerId = NewId.NextGuid())
            .Send(Addresses.Scheduler, context => new ScheduleTimer(
                context.Saga.TimerId!.Value,
                context.Saga.CorrelationId,
                purpose,
                fireAt(context)));

    /// <summary>Cancels the pending timer, if any, so it cannot fire into a later step.</summary>
    public static EventActivityBinder<TSaga, T> CancelPendingTimer<TSaga, T>(this EventActivityBinder<TSaga, T> binder)
        where TSaga : class, ITimedSagaState
        where T : class =>
        binder.If(
            context => context.Saga.TimerId.HasValue,
            pending => pending
                .Send(Addresses.Scheduler, context => new CancelTimer(context.Saga.TimerId!.Value))
                .Then(context => context.Saga.TimerId = null));

    /// <summary>True when the timer that fired is the instance's pending one, not a stale one.</summary>
    public static bool IsPendingTimer<TSaga>(BehaviorContext<TSaga, TimerFired> context)
        where TSaga : class, ITimedSagaState =>
        context.Message.TimerId == context.Saga.TimerId;

    /// <summary>Forgets the timer that just fired: nothing is left for the scheduler to cancel.</summary>
    public static EventActivityBinder<TSaga, TimerFired> ForgetFiredTimer<TSaga>(this EventActivityBinder<TSaga, TimerFired> binder)
        where TSaga : class, ITimedSagaState =>
        binder.Then(context => context.Saga.TimerId = null);

    /// <summary>
    /// Adds the transition to the history and logs it. Each saga passes its own log message, so operators keep
    /// finding "Operation {id}" and "Watch {id}" lines as before.
    /// </summary>
    public static EventActivityBinder<TSaga, T> RecordTransition<TSaga, T>(
        this EventActivityBinder<TSaga, T> binder,
        State state,
        TimeProvider clock,
        ILogger logger,
        Action<ILogger, Guid, string, string, Exception?> log,
        Func<BehaviorContext<TSaga, T>, string> note)
        where TSaga : class, ITimedSagaState
        where T : class =>
        binder.Then(context =>
        {
            var text = note(context);
            context.Saga.History.Add(new StateTransition(state.Name, clock.GetUtcNow(), text));
            log(logger, context.Saga.CorrelationId, state.Name, text, null);
        });
}
