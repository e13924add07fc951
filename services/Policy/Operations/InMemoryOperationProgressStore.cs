using System.Collections.Concurrent;
using Treecast.Contracts;

namespace Treecast.Policy.Operations;

/// <summary>The progress reports of the embedded default, in memory; lost on restart like the in-memory sagas.</summary>
public sealed class InMemoryOperationProgressStore : IOperationProgressStore
{
    private readonly ConcurrentDictionary<(Guid OperationId, string VmmId), ReceiverProgress> _receivers = new();

    public Task RecordAsync(TransferProgressed progress, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        _receivers.AddOrUpdate(
            (progress.OperationId, progress.VmmId),
            _ => new ReceiverProgress(progress.OperationId, progress.VmmId, progress.BytesReceived, progress.TotalBytes, at),
            (_, known) => known with
            {
                BytesReceived = Math.Max(known.BytesReceived, progress.BytesReceived),
                TotalBytes = Math.Max(known.TotalBytes, progress.TotalBytes),
                LastProgressAt = at,
            });
        return Task.CompletedTask;
    }

    public async Task RecordAllAsync(IReadOnlyCollection<TransferProgressed> reports, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reports);
        foreach (var progress in reports)
        {
            await RecordAsync(progress, at, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<IReadOnlyList<ReceiverProgress>> ForOperationAsync(Guid operationId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ReceiverProgress>>(
            _receivers.Values.Where(r => r.OperationId == operationId).OrderBy(r => r.VmmId, StringComparer.Ordinal).ToList());

    public Task<ILookup<Guid, ReceiverProgress>> ForOperationsAsync(IReadOnlyCollection<Guid> operationIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operationIds);
        var wanted = operationIds.ToHashSet();
        return Task.FromResult(_receivers.Values.Where(r => wanted.Contains(r.OperationId)).ToLookup(r => r.OperationId));
    }
}
