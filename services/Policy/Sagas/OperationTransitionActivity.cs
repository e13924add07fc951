using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Treecast.Contracts;
using Treecast.Policy.Operations;

namespace Treecast.Policy.Sagas;

/// <summary>
/// How a broadcast operation changes state: the transition goes into the history and the log, the step's timer is
/// armed (or, for a final state, the outcome published), and the state changes last, so whoever sees the new state
/// (an operator, a test) sees the instance complete. Resolved from DI with its clock, timeouts, progress store and
/// logger; the state machine only says where to go and why (<see cref="OperationTransitionBinders"/>).
/// </summary>
public sealed class OperationTransitionActivity(
    TimeProvider clock,
    IOptions<BroadcastTimeouts> timeouts,
    IOperationProgressStore progress,
    ILogger<OperationTransitionActivity> logger)
{
    private static readonly Action<ILogger, Guid, string, string, Exception?> LogTransition =
        LoggerMessage.Define<Guid, string, string>(LogLevel.Information, default, "Operation {OperationId} {State}: {Note}");

    private readonly BroadcastTimeouts _timeouts = timeouts.Value;

    /// <summary>
    /// Moves to a non-final step: the transition is recorded and the operation's one step timer scheduled again for the
    /// new step (the scheduler replaces a timer of the same id), so a step that never answers ends the operation
    /// instead of leaving it hanging.
    /// </summary>
    public async Task Enter<T>(BehaviorContext<BroadcastOperationState, T> context, State step, string note)
        where T : class
    {
        var operation = context.Saga;
        var now = clock.GetUtcNow();
        Record(operation, step.Name, note);
        var due = now + StepTimeout(step.Name);
        if (step.Name == nameof(BroadcastOperationStateMachine.Transferring))
        {
            operation.TransferStartedAt ??= now;
            due = Earliest(now + _timeouts.TransferProgress, TransferDeadline(operation, 0));
        }

        await ArmStepTimer(context, step.Name, due);
        await context.TransitionToState(step);
    }

    /// <summary>Moves to a final state and tells the rest of the system how the operation ended.</summary>
    public async Task Finish<T>(BehaviorContext<BroadcastOperationState, T> context, State final, string note)
        where T : class
    {
        var operation = context.Saga;
        if (operation.StepTimerId is { } pending)
        {
            await Send(context, Addresses.Scheduler, new CancelTimer(pending));
            operation.StepTimerId = null;
            operation.StepDueAt = null;
        }

        Record(operation, final.Name, note);
        operation.FinishedAt = clock.GetUtcNow();
        await context.Publish(operation.Finished(Enum.Parse<OperationFinalState>(final.Name)));
        await context.TransitionToState(final);
    }

    /// <summary>A history note that changes no state (a repair, an ignored cancel), logged like a transition.</summary>
    public void Note(BroadcastOperationState operation, string note)
    {
        ArgumentNullException.ThrowIfNull(operation);
        Record(operation, operation.CurrentState, note);
    }

    /// <summary>The reason an operation ends <c>TimedOut</c> when the timer of its current step fires.</summary>
    public string TimedOut(BroadcastOperationState operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return $"step {operation.CurrentState} timed out after {StepTimeout(operation.CurrentState)}";
    }

    /// <summary>
    /// The transfer's timer fired: the reason it timed out (no progress for <see cref="BroadcastTimeouts.TransferProgress"/>,
    /// or past its budget), or null when it goes on, with the timer armed again for the next check.
    /// </summary>
    public async Task<string?> CheckTransfer<T>(BehaviorContext<BroadcastOperationState, T> context)
        where T : class
    {
        var operation = context.Saga;
        var now = clock.GetUtcNow();
        var receivers = await progress.ForOperationAsync(operation.CorrelationId, context.CancellationToken);
        var started = operation.TransferStartedAt ?? now;

        // Any report counts, and so does any change the saga recorded (a receiver dropped, a tree repaired).
        var lastProgress = receivers.Select(r => r.LastProgressAt)
            .Append(started)
            .Append(operation.History.Count > 0 ? operation.History[^1].At : started)
            .Max();
        var held = receivers.Select(r => r.BytesReceived).DefaultIfEmpty(0).Max();
        var deadline = TransferDeadline(operation, held);
        if (now >= deadline)
        {
            var bytes = Math.Max(operation.SealedBytes(), held);
            return $"step Transferring exceeded its budget of {deadline - started} for {bytes / (1024d * 1024 * 1024):0.###} GiB "
                + $"({_timeouts.TransferPerGiB} per GiB, at least {_timeouts.TransferMinimum})";
        }

        if (now - lastProgress >= _timeouts.TransferProgress)
        {
            return $"step Transferring made no progress for {_timeouts.TransferProgress} (last at {lastProgress:O})";
        }

        await ArmStepTimer(context, operation.CurrentState, Earliest(lastProgress + _timeouts.TransferProgress, deadline));
        logger.LogDebug(
            "Operation {OperationId} transfer goes on: last progress at {LastProgressAt:O}, next check at {DueAt:O}",
            operation.CorrelationId,
            lastProgress,
            operation.StepDueAt);
        return null;
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

    /// <summary>When the transfer's budget runs out: the manifest's size, or what a receiver already holds of an unsealed one.</summary>
    private DateTimeOffset TransferDeadline(BroadcastOperationState operation, long held) =>
        (operation.TransferStartedAt ?? clock.GetUtcNow()) + _timeouts.TransferBudget(Math.Max(operation.SealedBytes(), held));

    private TimeSpan StepTimeout(string state) => state switch
    {
        nameof(BroadcastOperationStateMachine.ResolvingTree) => _timeouts.ResolveTree,
        nameof(BroadcastOperationStateMachine.Pausing) => _timeouts.Pause,
        nameof(BroadcastOperationStateMachine.Announcing) => _timeouts.Announce,
        nameof(BroadcastOperationStateMachine.Transferring) => _timeouts.TransferProgress,
        nameof(BroadcastOperationStateMachine.Cancelling) => _timeouts.Cancel,
        _ => _timeouts.Resume,
    };

    private static async Task ArmStepTimer<T>(BehaviorContext<BroadcastOperationState, T> context, string state, DateTimeOffset due)
        where T : class
    {
        var operation = context.Saga;
        operation.StepTimerId ??= NewId.NextGuid();
        operation.StepDueAt = due;
        await Send(context, Addresses.Scheduler, new ScheduleTimer(
            operation.StepTimerId.Value,
            operation.CorrelationId,
            BroadcastOperationState.StepTimerPurpose(state),
            due));
    }

    private static DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;

    private static async Task Send<TMessage>(ConsumeContext context, Uri address, TMessage message)
        where TMessage : class
    {
        // Through the consume context, so the saga's outbox holds it until the new state is saved.
        var endpoint = await context.GetSendEndpoint(address);
        await endpoint.Send(message, context.CancellationToken);
    }

    private void Record(BroadcastOperationState operation, string state, string note)
    {
        operation.History.Add(new StateTransition(state, clock.GetUtcNow(), note));
        LogTransition(logger, operation.CorrelationId, state, note, null);
    }
}
