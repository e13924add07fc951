using MassTransit;
using Microsoft.Extensions.Logging;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The steps every transition of <see cref="BroadcastOperationStateMachine"/> is built from. The state changes
/// last, so whoever sees the new state (an operator, a test) sees the instance complete.
/// </summary>
public static class BroadcastOperationActivities
{
    /// <summary>
    /// Moves to a non-final step: the previous step's timer is cancelled, the transition recorded, and a new
    /// timer scheduled so a step that never answers fails the operation instead of leaving it hanging.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> EnterStep<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State step,
        TimeSpan timeout,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder
            .CancelStepTimer()
            .RecordTransition(step, clock, logger, note)
            .ScheduleStepTimer(step, timeout, clock)
            .TransitionTo(step);

    /// <summary>Moves to a final state and tells the rest of the system how the operation ended.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> Finish<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State final,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder
            .CancelStepTimer()
            .RecordTransition(final, clock, logger, note)
            .Then(context => context.Saga.FinishedAt = clock.GetUtcNow())
            .Publish(context => Finished(context.Saga, final))
            .TransitionTo(final);

    public static EventActivityBinder<BroadcastOperationState, T> Fail<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State failed,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<BroadcastOperationState, T>, string> reason)
        where T : class =>
        binder
            .Then(context => context.Saga.FailureReason = reason(context))
            .Finish(failed, clock, logger, context => context.Saga.FailureReason!);

    public static EventActivityBinder<BroadcastOperationState, T> ScheduleStepTimer<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State step,
        TimeSpan timeout,
        TimeProvider clock)
        where T : class =>
        binder
            .Then(context => context.Saga.StepTimerId = NewId.NextGuid())
            .Send(Addresses.Scheduler, context => new ScheduleTimer(
                context.Saga.StepTimerId!.Value,
                context.Saga.CorrelationId,
                $"broadcast:{step.Name}",
                clock.GetUtcNow() + timeout));

    public static EventActivityBinder<BroadcastOperationState, T> CancelStepTimer<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder)
        where T : class =>
        binder.If(
            context => context.Saga.StepTimerId.HasValue,
            pending => pending
                .Send(Addresses.Scheduler, context => new CancelTimer(context.Saga.StepTimerId!.Value))
                .Then(context => context.Saga.StepTimerId = null));

    public static EventActivityBinder<BroadcastOperationState, T> RecordTransition<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State state,
        TimeProvider clock,
        ILogger logger,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder.Then(context =>
        {
            var text = note(context);
            context.Saga.History.Add(new StateTransition(state.Name, clock.GetUtcNow(), text));
            logger.LogInformation(
                "Operation {OperationId} {State}: {Note}",
                context.Saga.CorrelationId,
                state.Name,
                text);
        });

    /// <summary>
    /// Sends <see cref="ResumeVms"/> to every VMM of the tree. One activity, not one per VMM, because the
    /// tree is only known at run time.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> ResumeOnEveryVmm<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder)
        where T : class =>
        binder.ThenAsync(async context =>
        {
            foreach (var host in context.Saga.Hosts)
            {
                var endpoint = await context.GetSendEndpoint(Addresses.Agent(host.VmmId));
                var isRoot = host.VmmId == context.Saga.RootVmmId;
                await endpoint.Send(
                    new ResumeVms(context.Saga.CorrelationId, host.VmmId, isRoot),
                    context.CancellationToken);
            }
        });

    private static BroadcastOperationFinished Finished(BroadcastOperationState state, State final) =>
        new BroadcastOperationFinished(
            state.CorrelationId,
            state.Mode,
            final.Name,
            state.RootVmmId,
            state.Tree,
            state.Vms.ToArray(),
            state.Hosts.Select(h => new HostCopies(h.VmmId, h.Copies.ToArray())).ToArray(),
            state.FailureReason,
            state.RequestedAt,
            state.FinishedAt ?? state.RequestedAt);
}
