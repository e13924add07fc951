using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// How the state machine asks for a transition: <c>.Enter(Pausing, note)</c>, <c>.Finish(Completed, note)</c>,
/// <c>.Fail(Failed, reason)</c>. Each adds one activity that resolves <see cref="OperationTransitionActivity"/> from the
/// message's scope when it runs, as MassTransit's own container activities do, so no call site passes a clock or a logger.
/// </summary>
public static class OperationTransitionBinders
{
    public static EventActivityBinder<BroadcastOperationState, T> Enter<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State step,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder.WithTransitions((transitions, context) => transitions.Enter(context, step, note(context)));

    public static EventActivityBinder<BroadcastOperationState, T> Finish<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State final,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder.WithTransitions((transitions, context) => transitions.Finish(context, final, note(context)));

    /// <summary>Ends in <paramref name="failed"/> with <paramref name="reason"/> as the operation's failure reason.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> Fail<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        State failed,
        Func<BehaviorContext<BroadcastOperationState, T>, string> reason)
        where T : class =>
        binder
            .Then(context => context.Saga.FailureReason = reason(context))
            .Finish(failed, context => context.Saga.FailureReason!);

    /// <summary>Ends the operation in <paramref name="timedOut"/>, naming the step whose timer fired.</summary>
    public static EventActivityBinder<BroadcastOperationState, TimerFired> FailTimedOut(
        this EventActivityBinder<BroadcastOperationState, TimerFired> binder,
        State timedOut) =>
        binder.WithTransitions((transitions, context) =>
        {
            // The timer that fired is gone: nothing is left for the scheduler to cancel.
            context.Saga.StepTimerId = null;
            context.Saga.FailureReason = transitions.TimedOut(context.Saga);
            return transitions.Finish(context, timedOut, context.Saga.FailureReason);
        });

    /// <summary>
    /// The transfer's timer fired: ends the operation in <paramref name="timedOut"/> when no progress came in time or the
    /// budget ran out, else arms the timer for the next check.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, TimerFired> CheckTransfer(
        this EventActivityBinder<BroadcastOperationState, TimerFired> binder,
        State timedOut) =>
        binder.WithTransitions(async (transitions, context) =>
        {
            if (await transitions.CheckTransfer(context) is { } reason)
            {
                context.Saga.StepTimerId = null;
                context.Saga.FailureReason = reason;
                await transitions.Finish(context, timedOut, reason);
            }
        });

    /// <summary>Adds a note to the history without changing state.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> Note<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder.WithTransitions((transitions, context) =>
        {
            transitions.Note(context.Saga, note(context));
            return Task.CompletedTask;
        });

    /// <summary>Takes the failed receiver (and the VMMs it was to feed) out of the operation; the operation goes on.</summary>
    public static EventActivityBinder<BroadcastOperationState, OperationStepFailed> DropReceiver(
        this EventActivityBinder<BroadcastOperationState, OperationStepFailed> binder) =>
        binder.WithTransitions((transitions, context) =>
        {
            var failure = context.Message;
            var dropped = context.Saga.DropReceiver(failure.VmmId, failure.Step, failure.Reason);
            transitions.ReportDropped(context.Saga, dropped, $"{failure.Step.Name()} failed on {failure.VmmId}: {failure.Reason}");
            return Task.CompletedTask;
        });

    /// <summary>
    /// Fails one receiver with its reason, and only it (<see cref="BroadcastOperationState.FailReceiver"/>), with a note in
    /// the history; nothing happens for the root, a VMM the tree does not name, or one failed already.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> FailReceiver<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        Func<BehaviorContext<BroadcastOperationState, T>, string> vmmId,
        Func<BehaviorContext<BroadcastOperationState, T>, string> reason,
        Func<BehaviorContext<BroadcastOperationState, T>, bool> mayRejoin)
        where T : class =>
        binder.WithTransitions((transitions, context) =>
        {
            if (context.Saga.FailReceiver(vmmId(context), reason(context), mayRejoin(context)) is { } host)
            {
                transitions.Note(context.Saga, $"{host.VmmId} failed ({host.FailureReason})");
            }

            return Task.CompletedTask;
        });

    /// <summary>Takes a repaired tree (the event's filter checked it is newer), with a note of what changed.</summary>
    public static EventActivityBinder<BroadcastOperationState, TreeRepaired> AdoptRepairedTree(
        this EventActivityBinder<BroadcastOperationState, TreeRepaired> binder) =>
        binder.WithTransitions((transitions, context) =>
        {
            if (context.Saga.AdoptRepairedTree(context.Message) is { } note)
            {
                transitions.Note(context.Saga, note);
            }

            return Task.CompletedTask;
        });

    /// <summary>No repaired tree came: the receivers that were waiting for one fail, as the VMMs that cannot be fed.</summary>
    public static EventActivityBinder<BroadcastOperationState, TreeResolutionFailed> DropOrphans(
        this EventActivityBinder<BroadcastOperationState, TreeResolutionFailed> binder) =>
        binder.WithTransitions((transitions, context) =>
        {
            var dropped = context.Saga.DropOrphans();
            context.Saga.PendingRepairs.Clear();
            var unfed = dropped.Count > 0 ? $"; {string.Join(", ", dropped.Select(h => h.VmmId))} cannot be fed" : string.Empty;
            transitions.Note(context.Saga, $"repair of tree v{context.Saga.TreeVersion} failed: {context.Message.Reason}{unfed}");
            transitions.ReportDropped(context.Saga, dropped, $"no repaired tree: {context.Message.Reason}");
            return Task.CompletedTask;
        });

    /// <summary>Drops verified receivers whose copies do not carry the root's sealed digests.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> DropMismatchedCopies<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder)
        where T : class =>
        binder.WithTransitions((transitions, context) =>
        {
            transitions.ReportDropped(context.Saga, context.Saga.DropMismatchedCopies(), "their copies do not match the root's sealed images");
            return Task.CompletedTask;
        });

    private static EventActivityBinder<BroadcastOperationState, T> WithTransitions<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        Func<OperationTransitionActivity, BehaviorContext<BroadcastOperationState, T>, Task> run)
        where T : class =>
        binder.Add(new ResolvedTransition<T>(run));

    private sealed class ResolvedTransition<T>(
        Func<OperationTransitionActivity, BehaviorContext<BroadcastOperationState, T>, Task> run)
        : IStateMachineActivity<BroadcastOperationState, T>
        where T : class
    {
        public async Task Execute(BehaviorContext<BroadcastOperationState, T> context, IBehavior<BroadcastOperationState, T> next)
        {
            await run(context.GetServiceOrCreateInstance<OperationTransitionActivity>(), context);
            await next.Execute(context);
        }

        public Task Faulted<TException>(
            BehaviorExceptionContext<BroadcastOperationState, T, TException> context,
            IBehavior<BroadcastOperationState, T> next)
            where TException : Exception =>
            next.Faulted(context);

        public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);

        public void Probe(ProbeContext context) => context.CreateScope("operation-transition");
    }
}
