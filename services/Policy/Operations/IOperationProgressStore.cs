using Treecast.Contracts;

namespace Treecast.Policy.Operations;

/// <summary>
/// The receivers' progress reports, kept apart from the operation's saga document: they are the most frequent and the
/// least essential messages of an operation, so they are written without the saga's version check (the furthest offset
/// wins) and never make an operation's other messages conflict. The HTTP read-out merges them in; the transfer step's
/// timer asks when the last one arrived.
/// </summary>
public interface IOperationProgressStore
{
    /// <summary>Records one report at <paramref name="at"/>: the furthest bytes and total win, the time is the latest write.</summary>
    Task RecordAsync(TransferProgressed progress, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Records reports that arrived together, as <see cref="RecordAsync"/> would one by one, in one write to the store:
    /// the furthest bytes and total of each receiver win.
    /// </summary>
    Task RecordAllAsync(IReadOnlyCollection<TransferProgressed> reports, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Every receiver of the operation that reported progress.</summary>
    Task<IReadOnlyList<ReceiverProgress>> ForOperationAsync(Guid operationId, CancellationToken cancellationToken);

    /// <summary>The receivers of each operation named, for a list of operations at once.</summary>
    Task<ILookup<Guid, ReceiverProgress>> ForOperationsAsync(IReadOnlyCollection<Guid> operationIds, CancellationToken cancellationToken);
}
