using Treecast.Policy.Sagas;

namespace Treecast.Policy.Operations;

/// <summary>Which broadcast operations to list: every condition that is set must hold; newest first, at most <see cref="Limit"/>.</summary>
/// <param name="State">A state name of the broadcast operation state machine, for example <c>Transferring</c>.</param>
/// <param name="RootVmmId">The VMM the operation started from.</param>
/// <param name="Since">Requested at or after this instant.</param>
/// <param name="Limit">How many operations at most.</param>
public sealed record OperationQuery(string? State, string? RootVmmId, DateTimeOffset? Since, int Limit)
{
    /// <summary>The states of an operation whose tree is in use: a VMM lost in one of these concerns it.</summary>
    public static IReadOnlyList<string> RunningStates { get; } =
    [
        nameof(BroadcastOperationStateMachine.Pausing),
        nameof(BroadcastOperationStateMachine.Announcing),
        nameof(BroadcastOperationStateMachine.Transferring),
        nameof(BroadcastOperationStateMachine.Duplicating),
        nameof(BroadcastOperationStateMachine.Cancelling),
    ];
}
