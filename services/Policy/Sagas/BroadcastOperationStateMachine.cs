using MassTransit;
using Microsoft.Extensions.Logging;
using Treecast.Contracts;
using static Treecast.Policy.Sagas.BroadcastOperationSteps;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The one place that knows the order of a broadcast operation: resolve the tree, pause the root's VMs,
/// announce the pending transfer, stream down the tree, and in duplicate mode resume the copies everywhere.
/// The graph only: what each report means is <see cref="BroadcastOperationState"/>'s bookkeeping, how a transition
/// is made is <see cref="OperationTransitionActivity"/>'s.
/// </summary>
public sealed class BroadcastOperationStateMachine : MassTransitStateMachine<BroadcastOperationState>
{
    public BroadcastOperationStateMachine(TimeProvider clock, ILogger<BroadcastOperationStateMachine> logger)
    {
        InstanceState(x => x.CurrentState);

        Event(() => BroadcastRequested, x => x.CorrelateById(context => context.Message.OperationId));
        Event(() => TreeResolved, x => Existing(x, context => context.Message.OperationId));
        Event(() => TreeResolutionFailed, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmsPaused, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmImagesSealed, x => Existing(x, context => context.Message.OperationId));
        Event(() => ReadyToReceive, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmsReceived, x => Existing(x, context => context.Message.OperationId));
        Event(() => VmsResumed, x => Existing(x, context => context.Message.OperationId));
        Event(() => OperationStepFailed, x => Existing(x, context => context.Message.OperationId));
        Event(() => OperationVmmLost, x => Existing(x, context => context.Message.OperationId));
        Event(() => ParentUnreachable, x => Existing(x, context => context.Message.OperationId));
        Event(() => TreeRepaired, x => Existing(x, context => context.Message.OperationId));
        Event(() => ReceiveResumed, x => Existing(x, context => context.Message.OperationId));
        Event(() => CancelOperation, x => Existing(x, context => context.Message.OperationId));

        // The deadline watch's timers arrive here too; they find no operation and are discarded.
        Event(() => TimerFired, x => Existing(x, context => context.Message.CorrelationId));

        // Messages are delivered at least once and agents report concurrently, so a duplicate or late event
        // (a second request, a report after the operation ended) is expected and must not fault.
        OnUnhandledEvent(context =>
        {
            logger.LogDebug(
                "Operation {OperationId} ignored {Event} in {State}",
                context.Saga.CorrelationId,
                context.Event.Name,
                context.CurrentState.Name);
            return context.Ignore();
        });

        Initially(
            When(BroadcastRequested)
                .Then(context => context.Saga.Start(context.Message))
                .Send(Addresses.Topology, context => new ResolveTree(context.Saga.CorrelationId, context.Saga.RootVmmId, context.Saga.FanOut, context.Saga.Stripes, context.Saga.ChunkSizeBytes))
                .Enter(ResolvingTree, context =>
                    $"{context.Saga.Mode} of {context.Saga.RootVmmId} requested by policy {context.Saga.PolicyName}: {context.Saga.Reason}"));

        During(ResolvingTree,
            When(TreeResolved)
                .Then(context => context.Saga.AdoptTree(context.Message.Tree))
                .Send(RootAgent, context => new PauseVms(context.Saga.CorrelationId, context.Saga.RootVmmId))
                .Enter(Pausing, context => $"tree v{context.Saga.TreeVersion} over {context.Saga.Hosts.Count} VMMs"),
            When(TreeResolutionFailed)
                .Fail(Failed, context => $"ResolveTree failed for {context.Message.RootVmmId}: {context.Message.Reason}"));

        During(Pausing,
            When(VmsPaused, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => context.Saga.RecordPaused(context.Message.Vms, clock.GetUtcNow()))
                .IfElse(
                    context => context.Saga.Hosts.Count <= 1,
                    rootOnly => rootOnly.FinishRootOnlyWhenSealed(this),
                    tree => tree
                        .Send(RootAgent, context => context.Saga.Announcement())
                        .Enter(Announcing, context => context.Saga.IsSealed()
                            ? $"{context.Saga.Vms.Count} VMs ({context.Saga.Vms.Sum(v => v.Bytes)} bytes) paused on {context.Saga.RootVmmId}"
                            : $"{context.Saga.Vms.Count} VMs paused on {context.Saga.RootVmmId}, {context.Saga.Vms.Count(v => !v.IsSealed)} images still being saved")),
            // The seal may overtake the pause report on the bus: it is kept, and the pause report does not undo it.
            When(VmImagesSealed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => context.Saga.Seal(context.Message.Vms))
                .If(context => context.Saga.Hosts.Count <= 1, rootOnly => rootOnly.FinishRootOnlyWhenSealed(this)));

        During(Announcing,
            When(VmImagesSealed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => context.Saga.Seal(context.Message.Vms)),
            When(ReadyToReceive)
                .Then(context => context.Saga.MarkReady(context.Message.VmmId))
                .StartTransferWhenReady(this),
            // A receiver that holds verified copies already (a redelivered request) answers the announcement with both.
            When(VmsReceived)
                .Then(context => context.Saga.MarkReady(context.Message.VmmId))
                .Then(context => context.Saga.AcceptCopies(context.Message))
                .StartTransferWhenReady(this));

        During(Transferring,
            // Receivers may have verified their copies (against the root's end markers) before the seal arrives, or after.
            When(VmImagesSealed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => context.Saga.Seal(context.Message.Vms))
                .ContinueAfterReceive(this),
            When(VmsReceived)
                .Then(context => context.Saga.AcceptCopies(context.Message))
                .ContinueAfterReceive(this));

        During(Duplicating,
            When(VmsResumed)
                .Then(context => context.Saga.AcceptResumed(context.Message))
                .FinishWhenResumed(this),
            When(OperationStepFailed, context => context.Saga.IsReceiver(context.Message.VmmId))
                .DropReceiver()
                .FailWhenNoReceiverLeft(this, some => some.FinishWhenResumed(this)));

        // A lost or unreachable VMM is repaired inside the operation while its tree is in use: it fails alone, topology
        // re-parents the VMMs below it over the live ones, and the root announces the new tree version; the receivers
        // resume from the offsets they hold. The root lost ends the operation: nothing is left to copy from.
        During(new[] { Pausing, Announcing, Transferring },
            When(OperationVmmLost, context => context.Saga.IsReceiver(context.Message.VmmId))
                .LoseReceiver(this, context => context.Message.VmmId, context => $"lost: {context.Message.Reason}", context => $"{context.Message.VmmId} was lost", mayRejoin: _ => true),
            When(OperationVmmLost, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Fail(Failed, context => $"root {context.Message.VmmId} lost: {context.Message.Reason}"),
            When(TreeRepaired, context => context.Message.Tree.Version > (context.Saga.TreeVersion ?? 0))
                .AdoptRepairedTree(this),
            When(TreeRepaired, context => context.Message.Tree.Version <= (context.Saga.TreeVersion ?? 0))
                .Then(context => logger.LogInformation(
                    "Operation {OperationId} ignored tree v{Version}: it holds v{Held} already",
                    context.Saga.CorrelationId,
                    context.Message.Tree.Version,
                    context.Saga.TreeVersion)),
            When(TreeResolutionFailed)
                .DropOrphans()
                .ContinueWithoutFailed(this));
        During(new[] { Announcing, Transferring },
            // A receive that failed for good, or a parent that could not feed its child (a relay failure names the child).
            When(OperationStepFailed, context => context.Saga.IsReceiver(context.Message.VmmId))
                .LoseReceiver(
                    this,
                    context => context.Message.VmmId,
                    context => $"{context.Message.Step.Name()} failed: {context.Message.Reason}",
                    FailedStepCause,
                    mayRejoin: context => context.Message.Step == OperationStep.Relay),
            When(ParentUnreachable, context => context.Saga.IsLiveChildOf(context.Message.VmmId, context.Message.ParentVmmId)
                    && context.Message.ParentVmmId != context.Saga.RootVmmId)
                .LoseReceiver(
                    this,
                    context => context.Message.ParentVmmId,
                    context => $"unreachable from {context.Message.VmmId}: {context.Message.Reason}",
                    context => $"{context.Message.ParentVmmId} was unreachable from {context.Message.VmmId}",
                    mayRejoin: _ => true),
            // The root is not failed for one receiver's sake: a new tree version restarts its forwarder to that receiver.
            When(ParentUnreachable, context => context.Saga.IsLiveChildOf(context.Message.VmmId, context.Message.ParentVmmId)
                    && context.Message.ParentVmmId == context.Saga.RootVmmId)
                .RepairTree(context => $"{context.Message.VmmId} could not reach root {context.Message.ParentVmmId}"),
            // An agent restarted with the same id resumes its receive: a VMM failed as unreachable is taken back.
            When(ReceiveResumed, context => context.Saga.MayRejoin(context.Message.VmmId))
                .Then(context => context.Saga.Rejoin(context.Message.VmmId))
                .Note(context => $"{context.Message.VmmId} rejoined holding {context.Message.BytesHeld} bytes")
                .RepairTree(context => $"{context.Message.VmmId} rejoined"));
        During(Duplicating,
            When(OperationVmmLost, context => context.Saga.IsReceiver(context.Message.VmmId))
                .FailReceiver(context => context.Message.VmmId, context => $"lost: {context.Message.Reason}", mayRejoin: _ => false)
                .FailWhenNoReceiverLeft(this, some => some.FinishWhenResumed(this)),
            // Every receiver left holds verified copies by now: they run without the root.
            When(OperationVmmLost, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => context.Saga.FailRoot($"lost: {context.Message.Reason}"))
                .Note(context => $"root {context.Message.VmmId} lost: {context.Message.Reason}; the verified copies run without it")
                .FinishWhenResumed(this),
            When(ReceiveResumed, context => context.Saga.HoldsNothingOf(context.Message.VmmId))
                .Send(context => Addresses.Agent(context.Message.VmmId), context => new CancelTransfer(context.Saga.CorrelationId, context.Message.VmmId)));

        // Cancel: every VMM stops the operation and deletes what it received, the root's VMs run again, and the operation
        // ends Cancelled with who asked and when. Copies being resumed (Duplicating) are past cancelling.
        During(new[] { ResolvingTree, Pausing, Announcing, Transferring },
            When(CancelOperation)
                .StartCancelling(this));
        During(Cancelling,
            When(VmsResumed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .Then(context => context.Saga.AcceptResumed(context.Message))
                .FinishCancelled(this, context => $"{context.Message.Vms.Count} VMs run again on {context.Message.VmmId}"),
            When(OperationStepFailed, context => context.Message.VmmId == context.Saga.RootVmmId)
                .FinishCancelled(this, context => $"the root could not resume its VMs: {context.Message.Step.Name()} failed: {context.Message.Reason}"),
            When(OperationVmmLost, context => context.Message.VmmId == context.Saga.RootVmmId)
                .FinishCancelled(this, context => $"root {context.Message.VmmId} lost: {context.Message.Reason}"),
            When(TimerFired, context => context.Saga.IsStepTimer(context.Message))
                .Then(context => context.Saga.StepTimerId = null)
                .FinishCancelled(this, context => $"the root did not confirm its VMs run again before step Cancelling timed out"),
            When(ReceiveResumed)
                .Send(context => Addresses.Agent(context.Message.VmmId), context => new CancelTransfer(context.Saga.CorrelationId, context.Message.VmmId)));
        During(Duplicating,
            When(CancelOperation)
                .Note(context => $"{BroadcastOperationState.CancelRequested(context.Message)}; ignored: the copies are being resumed"));

        // A failure of the root (pause, announce, its own relay or resume) or of a VMM outside the tree ends the
        // operation: without the root's images there is nothing left to copy.
        During(new[] { ResolvingTree, Pausing },
            When(OperationStepFailed)
                .Fail(Failed, context => $"{context.Message.Step.Name()} failed on {context.Message.VmmId}: {context.Message.Reason}"));
        During(new[] { Announcing, Transferring, Duplicating },
            When(OperationStepFailed, context => !context.Saga.IsReceiver(context.Message.VmmId))
                .Fail(Failed, context => $"{context.Message.Step.Name()} failed on {context.Message.VmmId}: {context.Message.Reason}"));

        // The step's timer: any step that never answers ends the operation TimedOut; the transfer's is checked against
        // the receivers' progress and its budget, and goes on while both hold.
        During(new[] { ResolvingTree, Pausing, Announcing, Duplicating },
            When(TimerFired, context => context.Saga.IsStepTimer(context.Message))
                .FailTimedOut(TimedOut));
        During(Transferring,
            When(TimerFired, context => context.Saga.IsStepTimer(context.Message))
                .CheckTransfer(TimedOut));

        // Requests are redelivered (a restarted policy service, an event published twice): one that finds the operation
        // ended gets its outcome again, so the requester always hears how it ended; one that finds it running waits for it.
        During(new[] { Completed, CompletedWithFailures, Duplicated, Failed, TimedOut, Cancelled },
            When(CancelOperation)
                .Then(context => logger.LogInformation(
                    "Operation {OperationId} ignored a cancel by {RequestedBy}: it ended {State}",
                    context.Saga.CorrelationId,
                    context.Message.RequestedBy,
                    context.Saga.CurrentState)),
            // What an agent restarted after the end still holds of the operation is of no use: it deletes it.
            When(ReceiveResumed)
                .Send(context => Addresses.Agent(context.Message.VmmId), context => new CancelTransfer(context.Saga.CorrelationId, context.Message.VmmId)),
            When(BroadcastRequested)
                .Then(context => logger.LogInformation(
                    "Operation {OperationId} requested again after it ended {State}: publishing its outcome again",
                    context.Saga.CorrelationId,
                    context.Saga.CurrentState))
                .Publish(context => context.Saga.Finished(Enum.Parse<OperationFinalState>(context.Saga.CurrentState))));
        During(new[] { ResolvingTree, Pausing, Announcing, Transferring, Duplicating, Cancelling },
            When(BroadcastRequested)
                .Then(context => logger.LogInformation(
                    "Operation {OperationId} requested again while {State}: it goes on",
                    context.Saga.CorrelationId,
                    context.Saga.CurrentState)));
    }

    public State ResolvingTree { get; } = null!;
    public State Pausing { get; } = null!;
    public State Announcing { get; } = null!;
    public State Transferring { get; } = null!;
    public State Duplicating { get; } = null!;
    public State Completed { get; } = null!;
    public State Duplicated { get; } = null!;

    /// <summary>Final: every VMM that did not fail holds verified copies (running, in duplicate mode); some receivers failed.</summary>
    public State CompletedWithFailures { get; } = null!;
    public State Failed { get; } = null!;

    /// <summary>Final: a step did not answer in time, or the transfer made no progress or ran past its budget.</summary>
    public State TimedOut { get; } = null!;

    /// <summary>Streaming stopped on every VMM, partial copies are being deleted; waiting for the root's VMs to run again.</summary>
    public State Cancelling { get; } = null!;

    /// <summary>Final: someone cancelled it (<see cref="BroadcastOperationState.Cancel"/> says who and when).</summary>
    public State Cancelled { get; } = null!;

    public Event<BroadcastRequested> BroadcastRequested { get; } = null!;
    public Event<TreeResolved> TreeResolved { get; } = null!;
    public Event<TreeResolutionFailed> TreeResolutionFailed { get; } = null!;
    public Event<VmsPaused> VmsPaused { get; } = null!;
    public Event<VmImagesSealed> VmImagesSealed { get; } = null!;
    public Event<ReadyToReceive> ReadyToReceive { get; } = null!;
    public Event<VmsReceived> VmsReceived { get; } = null!;
    public Event<VmsResumed> VmsResumed { get; } = null!;
    public Event<OperationStepFailed> OperationStepFailed { get; } = null!;
    public Event<OperationVmmLost> OperationVmmLost { get; } = null!;
    public Event<ParentUnreachable> ParentUnreachable { get; } = null!;
    public Event<TreeRepaired> TreeRepaired { get; } = null!;
    public Event<ReceiveResumed> ReceiveResumed { get; } = null!;
    public Event<CancelOperation> CancelOperation { get; } = null!;
    public Event<TimerFired> TimerFired { get; } = null!;

    private static string FailedStepCause(BehaviorContext<BroadcastOperationState, OperationStepFailed> context) =>
        context.Message.Step == OperationStep.Relay
            ? $"the relay to {context.Message.VmmId} failed"
            : $"{context.Message.Step.Name()} failed on {context.Message.VmmId}";

    private static void Existing<T>(IEventCorrelationConfigurator<BroadcastOperationState, T> x, Func<ConsumeContext<T>, Guid> operationId)
        where T : class
    {
        x.CorrelateById(operationId);
        x.OnMissingInstance(m => m.Discard());
    }
}
