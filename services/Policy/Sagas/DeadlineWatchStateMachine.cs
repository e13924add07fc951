using MassTransit;
using Microsoft.Extensions.Logging;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// Watches one workload's deadline: if the workload has not completed when the deadline timer fires, the
/// root's VMs are duplicated on every other VMM of its tree (a duplicate-mode broadcast operation).
/// </summary>
public sealed class DeadlineWatchStateMachine : MassTransitStateMachine<DeadlineWatchState>
{
    /// <summary>The <see cref="ScheduleTimer.Purpose"/> of a deadline timer.</summary>
    public const string TimerPurpose = "deadline";

    public DeadlineWatchStateMachine(TimeProvider clock, ILogger<DeadlineWatchStateMachine> logger)
    {
        InstanceState(x => x.CurrentState);

        Event(() => DeadlineWatchRequested, x => x.CorrelateById(context => context.Message.WatchId));
        Event(() => WorkloadCompleted, x =>
        {
            x.CorrelateBy((state, context) => state.WorkloadId == context.Message.WorkloadId);
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

        // Redelivered requests, a completion after the deadline and stale timers are expected; none may fault.
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
                .ScheduleDeadline()
                .Enter(Watching, clock, logger, context =>
                    $"workload {context.Saga.WorkloadId} on {context.Saga.RootVmmId} must complete by {context.Saga.RequestedAt + context.Saga.Deadline:O}"));

        During(Watching,
            When(WorkloadCompleted)
                .Finish(CompletedInTime, clock, logger, context =>
                    $"workload completed at {context.Message.CompletedAt:O}"),
            When(TimerFired, SagaActivities.IsPendingTimer)
                .ForgetFiredTimer()
                .Then(context => context.Saga.OperationId = NewId.NextGuid())
                .Publish(context => new BroadcastRequested(
                    context.Saga.OperationId!.Value,
                    context.Saga.RootVmmId,
                    BroadcastMode.Duplicate,
                    context.Saga.FanOut,
                    context.Saga.ChunkSizeBytes,
                    context.Saga.PolicyName,
                    $"workload {context.Saga.WorkloadId} missed its {context.Saga.Deadline} deadline",
                    clock.GetUtcNow()))
                .Enter(Duplicating, clock, logger, context =>
                    $"deadline passed; duplicating {context.Saga.RootVmmId} in operation {context.Saga.OperationId}"));

        During(Duplicating,
            When(BroadcastOperationFinished)
                .IfElse(
                    context => context.Message.State == OperationFinalState.Duplicated,
                    duplicated => duplicated.Finish(Duplicated, clock, logger, context =>
                        $"{context.Message.Vms.Count} VMs running on {context.Message.Hosts.Count} VMMs"),
                    failed => failed
                        .Then(context => context.Saga.FailureReason =
                            context.Message.FailureReason ?? $"duplication ended {context.Message.State}")
                        .Finish(Failed, clock, logger, context => context.Saga.FailureReason!)));
    }

    public State Watching { get; } = null!;
    public State CompletedInTime { get; } = null!;
    public State Duplicating { get; } = null!;
    public State Duplicated { get; } = null!;
    public State Failed { get; } = null!;

    public Event<DeadlineWatchRequested> DeadlineWatchRequested { get; } = null!;
    public Event<WorkloadCompleted> WorkloadCompleted { get; } = null!;
    public Event<TimerFired> TimerFired { get; } = null!;
    public Event<BroadcastOperationFinished> BroadcastOperationFinished { get; } = null!;

    private static void Start(DeadlineWatchState state, DeadlineWatchRequested request)
    {
        state.WorkloadId = request.WorkloadId;
        state.RootVmmId = request.RootVmmId;
        state.Deadline = request.Deadline;
        state.FanOut = request.FanOut;
        state.ChunkSizeBytes = request.ChunkSizeBytes;
        state.PolicyName = request.PolicyName;
        state.RequestedAt = request.RequestedAt;
    }
}
