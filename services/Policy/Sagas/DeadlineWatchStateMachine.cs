using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Treecast.Contracts;
using Treecast.Policy.Workloads;

namespace Treecast.Policy.Sagas;

/// <summary>
/// Watches one workload's deadline: if the workload has not completed when the deadline passes (not in the
/// workload ledger, and the root's agent does not say it completed), the root's VMs are duplicated on every
/// other VMM of its tree, in exactly one duplicate-mode broadcast operation.
/// </summary>
public sealed class DeadlineWatchStateMachine : MassTransitStateMachine<DeadlineWatchState>
{
    /// <summary>The <see cref="ScheduleTimer.Purpose"/> of a deadline timer.</summary>
    public const string TimerPurpose = "deadline";

    /// <summary>The <see cref="ScheduleTimer.Purpose"/> of the timer that bounds the wait for the root's agent.</summary>
    public const string ConfirmPurpose = "deadline-confirm";

    public DeadlineWatchStateMachine(
        IWorkloadLedger ledger,
        IOptions<DeadlineWatchOptions> options,
        TimeProvider clock,
        ILogger<DeadlineWatchStateMachine> logger)
    {
        var confirmTimeout = options.Value.ConfirmTimeout;
        InstanceState(x => x.CurrentState);

        Event(() => DeadlineWatchRequested, x => x.CorrelateById(context => context.Message.WatchId));
        Event(() => WorkloadCompleted, x =>
        {
            // A completion before the watch exists finds none; the ledger holds it for the watch.
            x.CorrelateBy((state, context) => state.WorkloadId == context.Message.WorkloadId);
            x.OnMissingInstance(m => m.Discard());
        });
        Event(() => WorkloadStatusReported, x =>
        {
            x.CorrelateById(context => context.Message.WatchId);
            x.OnMissingInstance(m => m.Discard());
        });

        // Broadcast operations' step timers arrive here too; they find no watch and are discarded.
        Event(() => TimerFired, x =>
        {
            x.CorrelateById(context => context.Message.CorrelationId);
            x.OnMissingInstance(m => m.Discard());
        });
        Event(() => BroadcastOperationFinished, x =>
        {
            x.CorrelateBy((state, context) => state.OperationId == context.Message.OperationId);
            x.OnMissingInstance(m => m.Discard());
        });

        // Redelivered requests, timers and reports, a completion after the decision, an agent's late answer:
        // all expected, none may fault.
        OnUnhandledEvent(context =>
        {
            logger.LogDebug(
                "Watch {WatchId} ignored {Event} in {State}",
                context.Saga.CorrelationId,
                context.Event.Name,
                context.CurrentState.Name);
            return context.Ignore();
        });

        Initially(
            When(DeadlineWatchRequested)
                .Then(context => Start(context.Saga, context.Message))
                .ReadLedger(ledger)
                .IfElse(
                    context => context.Saga.CompletedAt.HasValue,
                    completed => completed.Finish(CompletedInTime, clock, logger, context =>
                        DeadlineWatchActivities.CompletionNote(context.Saga, "reported before the watch started")),
                    running => running
                        .ScheduleDeadline()
                        .Enter(Watching, clock, logger, context =>
                            $"workload {context.Saga.WorkloadId} on {context.Saga.RootVmmId} must complete by {DeadlineWatchActivities.DeadlineOf(context.Saga):O}")));

        During(Watching, Confirming,
            When(WorkloadCompleted)
                .Then(context => DeadlineWatchActivities.Completed(context.Saga, context.Message.CompletedAt))
                .Finish(CompletedInTime, clock, logger, context =>
                    DeadlineWatchActivities.CompletionNote(context.Saga, $"reported by {context.Message.VmmId}")));

        During(Watching,
            When(TimerFired, context => IsPending(context, TimerPurpose))
                .ForgetFiredTimer()
                .ReadLedger(ledger)
                .IfElse(
                    context => context.Saga.CompletedAt.HasValue,
                    completed => completed.Finish(CompletedInTime, clock, logger, context =>
                        DeadlineWatchActivities.CompletionNote(context.Saga, "found in the workload ledger when the deadline passed")),
                    missed => missed
                        .AskRootAgent(clock, confirmTimeout)
                        .Enter(Confirming, clock, logger, context =>
                            $"deadline passed with no completion recorded; asking {context.Saga.RootVmmId}'s agent about workload {context.Saga.WorkloadId} (waiting up to {confirmTimeout})")));

        During(Confirming,
            When(WorkloadStatusReported, context => context.Message.Status == WorkloadStatus.Completed)
                .Then(context => DeadlineWatchActivities.Completed(context.Saga, context.Message.CompletedAt ?? clock.GetUtcNow()))
                .Finish(CompletedInTime, clock, logger, context =>
                    DeadlineWatchActivities.CompletionNote(context.Saga, $"{context.Message.VmmId}'s agent says so")),
            DuplicateUnlessRecorded(
                When(WorkloadStatusReported, context => context.Message.Status != WorkloadStatus.Completed),
                context => $"{context.Message.VmmId}'s agent reports workload {context.Message.WorkloadId} {context.Message.Status}",
                ledger,
                clock,
                logger),
            DuplicateUnlessRecorded(
                When(TimerFired, context => IsPending(context, ConfirmPurpose)).ForgetFiredTimer(),
                context => $"{context.Saga.RootVmmId}'s agent did not answer within {confirmTimeout}",
                ledger,
                clock,
                logger));

        During(Duplicating,
            When(BroadcastOperationFinished, context => context.Message.State == OperationFinalState.Duplicated)
                .Finish(Duplicated, clock, logger, context =>
                    $"{context.Message.Vms.Count} VMs running on {context.Message.Hosts.Count} VMMs"),
            When(BroadcastOperationFinished, context => context.Message.State == OperationFinalState.Cancelled)
                .Then(context => context.Saga.FailureReason = context.Message.FailureReason ?? "duplication cancelled")
                .Finish(Cancelled, clock, logger, context => context.Saga.FailureReason!),

            // CompletedWithFailures too: the watch asked for copies running everywhere, and did not get them.
            When(BroadcastOperationFinished, context => context.Message.State is not (OperationFinalState.Duplicated or OperationFinalState.Cancelled))
                .Then(context => context.Saga.FailureReason =
                    context.Message.FailureReason ?? $"duplication ended {context.Message.State}")
                .Finish(Failed, clock, logger, context => context.Saga.FailureReason!));
    }

    public State Watching { get; } = null!;

    /// <summary>The deadline passed with no completion recorded; waiting for the root's agent's view of the workload.</summary>
    public State Confirming { get; } = null!;
    public State CompletedInTime { get; } = null!;
    public State Duplicating { get; } = null!;
    public State Duplicated { get; } = null!;
    public State Failed { get; } = null!;

    /// <summary>The duplication was cancelled.</summary>
    public State Cancelled { get; } = null!;

    public Event<DeadlineWatchRequested> DeadlineWatchRequested { get; } = null!;
    public Event<WorkloadCompleted> WorkloadCompleted { get; } = null!;
    public Event<WorkloadStatusReported> WorkloadStatusReported { get; } = null!;
    public Event<TimerFired> TimerFired { get; } = null!;
    public Event<BroadcastOperationFinished> BroadcastOperationFinished { get; } = null!;

    /// <summary>
    /// The last look before duplicating: a completion consumed while the watch waited for the root's agent is in
    /// the ledger; only when it is not there does the watch duplicate.
    /// </summary>
    private EventActivityBinder<DeadlineWatchState, T> DuplicateUnlessRecorded<T>(
        EventActivityBinder<DeadlineWatchState, T> binder,
        Func<BehaviorContext<DeadlineWatchState, T>, string> why,
        IWorkloadLedger ledger,
        TimeProvider clock,
        ILogger logger)
        where T : class =>
        binder
            .ReadLedger(ledger)
            .IfElse(
                context => context.Saga.CompletedAt.HasValue,
                completed => completed.Finish(CompletedInTime, clock, logger, context =>
                    DeadlineWatchActivities.CompletionNote(context.Saga, $"found in the workload ledger after {why(context)}")),
                missed => missed.Duplicate(Duplicating, clock, logger, context => $"deadline passed; {why(context)}"));

    /// <summary>
    /// The watch's pending timer, and of the purpose the state waits for: a redelivered deadline timer never counts
    /// as the agent's silence, whatever ids the timers carry.
    /// </summary>
    private static bool IsPending(BehaviorContext<DeadlineWatchState, TimerFired> context, string purpose) =>
        SagaActivities.IsPendingTimer(context) && context.Message.Purpose == purpose;

    private static void Start(DeadlineWatchState state, DeadlineWatchRequested request)
    {
        state.WorkloadId = request.WorkloadId;
        state.RootVmmId = request.RootVmmId;
        state.Deadline = request.Deadline;
        state.FanOut = request.FanOut;
        state.Stripes = request.Stripes;
        state.ChunkSizeBytes = request.ChunkSizeBytes;
        state.PolicyName = request.PolicyName;
        state.RequestedAt = request.RequestedAt;
    }
}
