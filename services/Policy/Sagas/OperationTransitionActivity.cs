using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Treecast.Contracts;

namespace Treecast.Policy.Sagas;

/// <summary>
/// How a broadcast operation changes state: the transition goes into the history and the log, the step's timer is
/// armed (or, for a final state, the outcome published), and the state changes last, so whoever sees the new state
/// (an operator, a test) sees the instance complete. Resolved from DI with its clock, timeouts and logger; the state
/// machine only says where to go and why (<see cref="OperationTransitionBinders"/>).
/// </summary>
public sealed class OperationTransitionActivity(
    TimeProvider clock,
    IOptions<BroadcastTimeouts> timeouts,
    ILogger<OperationTransitionActivity> logger)
{
    /// <summary>The <see cref="ScheduleTimer.Purpose"/> of a step timer: <c>broadcast:{state}</c>.</summary>
    public const string TimerPurposePrefix = "broadcast:";

    private static readonly Action<ILogger, Guid, string, string, Exception?> LogTransition =
        LoggerMessage.Define<Guid, string, string>(LogLevel.Information, default, "Operation {OperationId} {State}: {Note}");

    private readonly BroadcastTimeouts _timeouts = timeouts.Value;

    /// <summary>
    /// Moves to a non-final step: the previous step's timer is cancelled, the transition recorded, and a new timer
    /// scheduled so a step that never answers fails the operation instead of leaving it hanging.
    /// </summary>
    public async Task Enter<T>(BehaviorContext<BroadcastOperationState, T> context, State step, string note)
        where T : class
    {
        await CancelPendingTimer(context);
        Record(context.Saga, step, note);
        context.Saga.StepTimerId = NewId.NextGuid();
        await Send(context, Addresses.Scheduler, new ScheduleTimer(
            context.Saga.StepTimerId.Value,
            context.Saga.CorrelationId,
            TimerPurposePrefix + step.Name,
            clock.GetUtcNow() + StepTimeout(step.Name)));
        await context.TransitionToState(step);
    }

    /// <summary>Moves to a final state and tells the rest of the system how the operation ended.</summary>
    public async Task Finish<T>(BehaviorContext<BroadcastOperationState, T> context, State final, string note)
        where T : class
    {
        await CancelPendingTimer(context);
        Record(context.Saga, final, note);
        context.Saga.FinishedAt = clock.GetUtcNow();
        await context.Publish(Finished(context.Saga, final));
        await context.TransitionToState(final);
    }

    /// <summary>The reason an operation fails when the timer of its current step fires.</summary>
    public string TimedOut(BroadcastOperationState operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return $"step {operation.CurrentState} timed out after {StepTimeout(operation.CurrentState)}";
    }

    /// <summary>One warning for VMMs the operation goes on without.</summary>
    public void ReportDropped(BroadcastOperationState operation, IReadOnlyList<VmmProgress> dropped, string why)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(dropped);
        if (dropped.Count > 0)
        {
            logger.LogWarning(
                "Operation {OperationId} goes on without {FailedVmms}: {Reason}",
                operation.CorrelationId,
                string.Join(", ", dropped.Select(h => h.VmmId)),
                why);
        }
    }

    private TimeSpan StepTimeout(string state) => state switch
    {
        nameof(BroadcastOperationStateMachine.ResolvingTree) => _timeouts.ResolveTree,
        nameof(BroadcastOperationStateMachine.Pausing) => _timeouts.Pause,
        nameof(BroadcastOperationStateMachine.Announcing) => _timeouts.Announce,
        nameof(BroadcastOperationStateMachine.Transferring) => _timeouts.Transfer,
        _ => _timeouts.Resume,
    };

    private static async Task CancelPendingTimer<T>(BehaviorContext<BroadcastOperationState, T> context)
        where T : class
    {
        if (context.Saga.StepTimerId is { } pending)
        {
            await Send(context, Addresses.Scheduler, new CancelTimer(pending));
            context.Saga.StepTimerId = null;
        }
    }

    private static async Task Send<TMessage>(ConsumeContext context, Uri address, TMessage message)
        where TMessage : class
    {
        // Through the consume context, so the saga's outbox holds it until the new state is saved.
        var endpoint = await context.GetSendEndpoint(address);
        await endpoint.Send(message, context.CancellationToken);
    }

    private void Record(BroadcastOperationState operation, State state, string note)
    {
        operation.History.Add(new StateTransition(state.Name, clock.GetUtcNow(), note));
        LogTransition(logger, operation.CorrelationId, state.Name, note, null);
    }

    private static BroadcastOperationFinished Finished(BroadcastOperationState state, State final) =>
        new(
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
