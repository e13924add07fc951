using MassTransit;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The steps of <see cref="BroadcastOperationStateMachine"/> that more than one event leads to: each decides, from the
/// operation's bookkeeping, which transition comes next. They take the machine for its states.
/// </summary>
public static class BroadcastOperationSteps
{
    /// <summary>Every VMM still in the operation is ready: start streaming down the tree.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> StartTransferWhenReady<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine)
        where T : class =>
        binder.If(
            context => context.Saga.LiveReceivers().All(h => h.Ready),
            allReady => allReady
                .Send(RootAgent, context => new StartTransfer(context.Saga.CorrelationId, context.Saga.RootVmmId))
                .Enter(machine.Transferring, context =>
                    $"{context.Saga.LiveReceivers().Count()} VMMs ready to receive{context.Saga.WithoutFailed()}")

                // Receivers that verified their copies while announcing (a redelivered request) need no transfer.
                .ContinueAfterReceive(machine));

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
            .DropMismatchedCopies()
            .FailWhenNoReceiverLeft(
                machine,
                some => some.If(
                    context => context.Saga.LiveReceivers().All(h => h.Verified) && context.Saga.IsSealed(),
                    allVerified => allVerified.IfElse(
                        context => context.Saga.Mode == BroadcastMode.Broadcast,
                        broadcast => broadcast.FinishWithOutcome(machine, machine.Completed, context =>
                            $"{context.Saga.Vms.Count} VMs verified on {context.Saga.LiveReceivers().Count()} VMMs"),
                        duplicate => duplicate
                            .ResumeOnVerifiedVmms()
                            .Enter(machine.Duplicating, context =>
                                $"{context.Saga.Vms.Count} VMs verified; resuming on {context.Saga.Hosts.Count(h => !h.Failed)} VMMs{context.Saga.WithoutFailed()}"))));

    /// <summary>Fails the operation when every receiver dropped out, since nothing is left to copy to; else goes on.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> FailWhenNoReceiverLeft<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine,
        Func<EventActivityBinder<BroadcastOperationState, T>, EventActivityBinder<BroadcastOperationState, T>> goOn)
        where T : class =>
        binder.IfElse(
            context => !context.Saga.LiveReceivers().Any(),
            none => none.Fail(machine.Failed, context => context.Saga.EveryReceiverFailed()),
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
            context => context.Saga.PausedAt is not null && context.Saga.IsSealed(),
            ready => ready.IfElse(
                context => context.Saga.Mode == BroadcastMode.Broadcast,
                broadcast => broadcast.Finish(machine.Completed, context =>
                    $"{context.Saga.Vms.Count} VMs paused on {context.Saga.RootVmmId}; the tree has no other VMM"),
                duplicate => duplicate
                    .ResumeOnVerifiedVmms()
                    .Enter(machine.Duplicating, context =>
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
            context => context.Saga.Hosts.Any(h => h.Failed),
            partial => partial
                .Then(context => context.Saga.FailureReason = context.Saga.PartialFailure())
                .Finish(machine.CompletedWithFailures, context => $"{note(context)}; {context.Saga.FailureReason}"),
            complete => complete.Finish(success, note));

    /// <summary>
    /// A receiver drops out while the tree is in use (lost, unreachable, its receive or the relay feeding it failed): it
    /// fails with its reason, the VMMs below it do not; those still waiting for data get a repaired tree. Then the
    /// operation goes on without it.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> LoseReceiver<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine,
        Func<BehaviorContext<BroadcastOperationState, T>, string> vmmId,
        Func<BehaviorContext<BroadcastOperationState, T>, string> reason,
        Func<BehaviorContext<BroadcastOperationState, T>, string> cause,
        Func<BehaviorContext<BroadcastOperationState, T>, bool> mayRejoin)
        where T : class =>
        binder
            .FailReceiver(vmmId, reason, mayRejoin)
            .RepairWhenOrphaned(cause)
            .ContinueWithoutFailed(machine);

    /// <summary>Asks topology for a repaired tree when some receiver waits under a failed parent.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> RepairWhenOrphaned<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        Func<BehaviorContext<BroadcastOperationState, T>, string> cause)
        where T : class =>
        binder.If(context => context.Saga.Orphans().Count > 0, orphaned => orphaned.RepairTree(cause));

    /// <summary>Asks topology for a new version of the tree over the operation's VMMs that have not failed.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> RepairTree<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        Func<BehaviorContext<BroadcastOperationState, T>, string> cause)
        where T : class =>
        binder.Send(Addresses.Topology, context => context.Saga.RepairRequest(cause(context)));

    /// <summary>
    /// A repaired tree newer than the one held: adopt it, announce it again through the root once announced (the agents
    /// re-parent to it, resuming from the offsets they hold), ask again if a VMM of it failed meanwhile, and go on.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, TreeRepaired> AdoptRepairedTree(
        this EventActivityBinder<BroadcastOperationState, TreeRepaired> binder,
        BroadcastOperationStateMachine machine) =>
        binder
            .AdoptRepairedTree()
            .If(
                context => context.Saga.CurrentState != machine.Pausing.Name,
                announced => announced.Send(RootAgent, context => context.Saga.Announcement()))
            .RepairWhenOrphaned(context => $"a VMM of tree v{context.Saga.TreeVersion} failed while it was built")
            .ContinueWithoutFailed(machine);

    /// <summary>
    /// After a receiver dropped out: fail when none is left; else, announcing, start the transfer once every remaining
    /// receiver is ready; transferring, finish once every remaining one is verified.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, T> ContinueWithoutFailed<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine)
        where T : class =>
        binder.FailWhenNoReceiverLeft(machine, some => some.IfElse(
            context => context.Saga.CurrentState == machine.Transferring.Name,
            transferring => transferring.ContinueAfterReceive(machine),
            other => other.If(
                context => context.Saga.CurrentState == machine.Announcing.Name,
                announcing => announcing.StartTransferWhenReady(machine))));

    /// <summary>
    /// Cancels: every VMM of the tree stops the operation's streams and deletes what it received
    /// (<see cref="CancelTransfer"/>), the root resumes its paused VMs, and the operation waits for the root in
    /// <see cref="BroadcastOperationStateMachine.Cancelling"/>.
    /// </summary>
    public static EventActivityBinder<BroadcastOperationState, CancelOperation> StartCancelling(
        this EventActivityBinder<BroadcastOperationState, CancelOperation> binder,
        BroadcastOperationStateMachine machine) =>
        binder
            .Then(context => context.Saga.RecordCancel(context.Message))
            .ThenAsync(async context =>
            {
                foreach (var host in context.Saga.Hosts)
                {
                    var endpoint = await context.GetSendEndpoint(Addresses.Agent(host.VmmId));
                    await endpoint.Send(new CancelTransfer(context.Saga.CorrelationId, host.VmmId), context.CancellationToken);
                }
            })
            .Send(RootAgent, context => new ResumeVms(context.Saga.CorrelationId, context.Saga.RootVmmId, IsRoot: true))
            .Enter(machine.Cancelling, context => BroadcastOperationState.CancelRequested(context.Message));

    /// <summary>Ends the cancel: <c>Cancelled</c>, with who asked and when as the reason.</summary>
    public static EventActivityBinder<BroadcastOperationState, T> FinishCancelled<T>(
        this EventActivityBinder<BroadcastOperationState, T> binder,
        BroadcastOperationStateMachine machine,
        Func<BehaviorContext<BroadcastOperationState, T>, string> note)
        where T : class =>
        binder
            .Then(context => context.Saga.FailureReason = context.Saga.CancelledReason())
            .Finish(machine.Cancelled, context => $"{note(context)}; {context.Saga.FailureReason}");

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

    /// <summary>The root's agent queue: commands of the operation go to the root, which speaks to the others.</summary>
    public static Uri RootAgent<T>(BehaviorContext<BroadcastOperationState, T> context)
        where T : class =>
        Addresses.Agent(context.Saga.RootVmmId);
}
