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
    private static readonly Action<ILogger, Guid, string, string, Exception?> LogTransition =
        LoggerMessage.Define<Guid, string, string>(LogLevel.Information, default, "Operation {OperationId} {State}: {Note}");

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
            .CancelPendingTimer()
            .RecordTransition(step, clock, logger, LogTransition, note)
            .StartTimer($"broadcast:{step.Name}", _ => clock.GetUtcNow() + timeout)
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
            .CancelPendingTimer()
            .RecordTransition(final, clock, logger, LogTransition, note)
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

    /// <summary>Every VMM still in the operation is ready: start streaming down the tree.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> StartTransferWhenReady<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine)
        where T : class =>
        binder.If(
            context => BroadcastOperationStateMachine.LiveReceivers(context.Saga).All(h => h.Ready),
            allReady => allReady
                .Send(BroadcastOperationStateMachine.RootAgent, context => new StartTransfer(context.Saga.CorrelationId, context.Saga.RootVmmId))
                .EnterStep(machine.Transferring, machine.Timeouts.Transfer, machine.Clock, machine.Logger, context =>
                    $"{BroadcastOperationStateMachine.LiveReceivers(context.Saga).Count()} VMMs ready to receive"
                    + BroadcastOperationStateMachine.WithoutFailed(context.Saga)));

    /// <summary>
    /// After a receiver verified its copies or dropped out, or the root sealed its images: drop receivers whose copies do
    /// not match the sealed manifest; fail when none is left; when every one left is verified and the manifest is sealed,
    /// finish (broadcast) or resume the verified copies (duplicate); else wait.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> ContinueAfterReceive<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine)
        where T : class =>
        binder
            .Then(context =>
            {
                var dropped = BroadcastOperationStateMachine.DropMismatchedCopies(context.Saga);
                if (dropped.Count > 0)
                {
                    machine.Logger.LogWarning(
                        "Operation {OperationId} goes on without {FailedVmms}: their copies do not match the root's sealed images",
                        context.Saga.CorrelationId,
                        string.Join(", ", dropped.Select(h => h.VmmId)));
                }
            })
            .FailWhenNoReceiverLeft(
                machine,
                some => some.If(
                    context => BroadcastOperationStateMachine.LiveReceivers(context.Saga).All(h => h.Verified)
                        && BroadcastOperationStateMachine.IsSealed(context.Saga),
                    allVerified => allVerified.IfElse(
                        context => context.Saga.Mode == BroadcastMode.Broadcast,
                        broadcast => broadcast.FinishWithOutcome(machine, machine.Completed, context =>
                            $"{context.Saga.Vms.Count} VMs verified on {BroadcastOperationStateMachine.LiveReceivers(context.Saga).Count()} VMMs"),
                        duplicate => duplicate
                            .ResumeOnVerifiedVmms()
                            .EnterStep(machine.Duplicating, machine.Timeouts.Resume, machine.Clock, machine.Logger, context =>
                                $"{context.Saga.Vms.Count} VMs verified; resuming on {context.Saga.Hosts.Count(h => !h.Failed)} VMMs"
                                + BroadcastOperationStateMachine.WithoutFailed(context.Saga)))));

    /// <summary>Fails the operation when every receiver dropped out, since nothing is left to copy to; else goes on.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> FailWhenNoReceiverLeft<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine,
        Func<EventActivityBinder<BroadcastOperationState, T>, EventActivityBinder<BroadcastOperationState, T>> goOn)
        where T : class =>
        binder.IfElse(
            context => !BroadcastOperationStateMachine.LiveReceivers(context.Saga).Any(),
            none => none.Fail(machine.Failed, machine.Clock, machine.Logger, context => BroadcastOperationStateMachine.EveryReceiverFailed(context.Saga)),
            goOn);

    /// <summary>
    /// A tree of the root alone, once the root reported its VMs paused and their images sealed: nothing to transfer, so
    /// the operation ends (broadcast) or resumes the root's VMs (duplicate).
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> FinishRootOnlyWhenSealed<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine)
        where T : class =>
        binder.If(
            context => context.Saga.PausedAt is not null && BroadcastOperationStateMachine.IsSealed(context.Saga),
            ready => ready.IfElse(
                context => context.Saga.Mode == BroadcastMode.Broadcast,
                broadcast => broadcast.Finish(machine.Completed, machine.Clock, machine.Logger, context =>
                    $"{context.Saga.Vms.Count} VMs paused on {context.Saga.RootVmmId}; the tree has no other VMM"),
                duplicate => duplicate
                    .ResumeOnVerifiedVmms()
                    .EnterStep(machine.Duplicating, machine.Timeouts.Resume, machine.Clock, machine.Logger, context =>
                        $"{context.Saga.Vms.Count} VMs paused; the tree has no other VMM, resuming on the root")));

    /// <summary>Every VMM that holds verified copies has resumed them: the duplication is done.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> FinishWhenResumed<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine)
        where T : class =>
        binder.If(
            context => context.Saga.Hosts.Where(h => !h.Failed).All(h => h.Resumed),
            allResumed => allResumed.FinishWithOutcome(machine, machine.Duplicated, context =>
                $"{context.Saga.Vms.Count} VMs running on {context.Saga.Hosts.Count(h => !h.Failed)} VMMs"));

    /// <summary>
    /// Ends in <paramref name="success"/>, or in <see cref="BroadcastOperationStateMachine.CompletedWithFailures"/> with the
    /// failed VMMs as the reason when some dropped out.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> FinishWithOutcome<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine,
        State success,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder.IfElse(
            context => BroadcastOperationStateMachine.Receivers(context.Saga).Any(h => h.Failed),
            partial => partial
                .Then(context =>
                {
                    var receivers = BroadcastOperationStateMachine.Receivers(context.Saga).ToList();
                    context.Saga.FailureReason =
                        $"{receivers.Count(h => h.Failed)} of {receivers.Count} receiving VMMs failed: {BroadcastOperationStateMachine.FailedVmms(context.Saga)}";
                })
                .Finish(machine.CompletedWithFailures, machine.Clock, machine.Logger, context => $"{note(context)}; {context.Saga.FailureReason}"),
            complete => complete.Finish(success, machine.Clock, machine.Logger, note));

    /// <summary>Takes the failed receiver (and the VMMs it was to feed) out of the operation; the operation goes on.</summary>
    public static EventActivityBinder<BroadcastOperationState, OperationStepFailed> DropReceiver(
        this EventActivityBinder<BroadcastOperationState, OperationStepFailed> binder,
        BroadcastOperationStateMachine machine) =>
        binder.Then(context =>
        {
            var dropped = BroadcastOperationStateMachine.MarkFailed(context.Saga, context.Message);
            if (dropped.Count > 0)
            {
                machine.Logger.LogWarning(
                    "Operation {OperationId} goes on without {FailedVmms}: {Step} failed on {VmmId}: {Reason}",
                    context.Saga.CorrelationId,
                    string.Join(", ", dropped.Select(h => h.VmmId)),
                    context.Message.Step.Name(),
                    context.Message.VmmId,
                    context.Message.Reason);
            }
        });

    /// <summary>
    /// Sends <see cref="ResumeVms"/> to every VMM that holds verified copies (the root always does) and has not failed.
    /// One activity, not one per VMM, because the tree is only known at run time.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> ResumeOnVerifiedVmms<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder)
        where T : class =>
        binder.ThenAsync(async context =>
        {
            foreach (var host in context.Saga.Hosts.Where(h => h.Verified && !h.Failed))
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
            Enum.Parse<OperationFinalState>(final.Name),
            state.RootVmmId,
            state.Tree,
            state.Vms.ToArray(),
            // A failed VMM is vouched for by nothing: it carries no copies, whatever it may hold.
            state.Hosts.Select(h => new HostCopies(h.VmmId, h.Failed ? [] : h.Copies.ToArray())).ToArray(),
            state.FailureReason,
            state.RequestedAt,
            state.FinishedAt ?? state.RequestedAt);
}
