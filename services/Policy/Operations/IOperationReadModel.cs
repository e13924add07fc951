using Treecast.Policy.Sagas;

namespace Treecast.Policy.Operations;

/// <summary>
/// Broadcast operations as their saga stores them, for operators: read-only, from whichever store the sagas use
/// (MassTransit's in-memory repository or the MongoDB collection).
/// </summary>
public interface IOperationReadModel
{
    /// <summary>The operations matching <paramref name="query"/>, newest (by <c>RequestedAt</c>) first.</summary>
    Task<IReadOnlyList<BroadcastOperationState>> ListAsync(OperationQuery query, CancellationToken cancellationToken);

    /// <summary>One operation, or null when no saga has that id.</summary>
    Task<BroadcastOperationState?> FindAsync(Guid operationId, CancellationToken cancellationToken);

    /// <summary>The operations still running (<see cref="OperationQuery.RunningStates"/>) whose tree holds the VMM.</summary>
    Task<IReadOnlyList<Guid>> RunningWithHostAsync(string vmmId, CancellationToken cancellationToken);
}
