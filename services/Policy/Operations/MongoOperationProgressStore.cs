using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Persistence;

namespace Treecast.Policy.Operations;

/// <summary>
/// The progress reports in the policy service's MongoDB database, collection <c>operation_progress</c>: one upsert per
/// receiver with <c>$max</c> of the bytes and <c>$set</c> of the time, no version check, so concurrent reports of one
/// operation never conflict (the saga's own document is versioned; this one need not be); reports that arrive together
/// go in one write.
/// </summary>
public sealed class MongoOperationProgressStore : IOperationProgressStore
{
    public const string CollectionName = "operation_progress";

    private static readonly FilterDefinitionBuilder<ReceiverProgressDocument> Filter = Builders<ReceiverProgressDocument>.Filter;
    private static readonly UpdateDefinitionBuilder<ReceiverProgressDocument> Update = Builders<ReceiverProgressDocument>.Update;

    private readonly IMongoCollection<ReceiverProgressDocument> _progress;
    private volatile bool _indexed;

    public MongoOperationProgressStore(IMongoDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _progress = database.GetTreecastCollection<ReceiverProgressDocument>(CollectionName);
    }

    public Task RecordAsync(TransferProgressed progress, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        return RecordAllAsync([progress], at, cancellationToken);
    }

    public async Task RecordAllAsync(IReadOnlyCollection<TransferProgressed> reports, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0)
        {
            return;
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);

        // One upsert per receiver, with the furthest of its reports: one round trip for the lot.
        var upserts = reports
            .GroupBy(p => (p.OperationId, p.VmmId))
            .Select(receiver => new UpdateOneModel<ReceiverProgressDocument>(
                Filter.Eq(p => p.Id, ReceiverProgressDocument.IdOf(receiver.Key.OperationId, receiver.Key.VmmId)),
                Update.SetOnInsert(p => p.OperationId, receiver.Key.OperationId)
                    .SetOnInsert(p => p.VmmId, receiver.Key.VmmId)
                    .Max(p => p.BytesReceived, receiver.Max(p => p.BytesReceived))
                    .Max(p => p.TotalBytes, receiver.Max(p => p.TotalBytes))
                    .Set(p => p.LastProgressAt, at))
            {
                IsUpsert = true,
            })
            .ToList();
        await _progress.BulkWriteAsync(upserts, new BulkWriteOptions { IsOrdered = false }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ReceiverProgress>> ForOperationAsync(Guid operationId, CancellationToken cancellationToken)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var found = await _progress.Find(Filter.Eq(p => p.OperationId, operationId))
            .Sort(Builders<ReceiverProgressDocument>.Sort.Ascending(p => p.VmmId))
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return found.Select(p => p.ToProgress()).ToList();
    }

    public async Task<ILookup<Guid, ReceiverProgress>> ForOperationsAsync(IReadOnlyCollection<Guid> operationIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operationIds);
        if (operationIds.Count == 0)
        {
            return Array.Empty<ReceiverProgress>().ToLookup(p => p.OperationId);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var found = await _progress.Find(Filter.In(p => p.OperationId, operationIds))
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return found.Select(p => p.ToProgress()).ToLookup(p => p.OperationId);
    }

    private async Task ReadyAsync(CancellationToken cancellationToken)
    {
        if (_indexed)
        {
            return;
        }

        // Creating an index that exists is a no-op on the server, so concurrent first writers may both ask. A failure
        // (server unreachable) leaves _indexed false: the message that needed it is retried, and so is the index.
        await _progress.Indexes.CreateOneAsync(
                new CreateIndexModel<ReceiverProgressDocument>(
                    Builders<ReceiverProgressDocument>.IndexKeys.Ascending(p => p.OperationId),
                    new CreateIndexOptions { Name = "operation" }),
                cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        _indexed = true;
    }
}
