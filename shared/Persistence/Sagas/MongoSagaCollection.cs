using MassTransit;
using MongoDB.Driver;

namespace Treecast.Persistence.Sagas;

/// <summary>
/// One saga type's collection, with its indexes created before the first read or write. A singleton per
/// saga type: the repository contexts that use it are created per message.
/// </summary>
public sealed class MongoSagaCollection<TSaga>
    where TSaga : class, ISagaVersion
{
    private readonly IMongoCollection<TSaga> _collection;
    private readonly IReadOnlyList<CreateIndexModel<TSaga>> _indexes;
    private readonly SemaphoreSlim _indexing = new(1, 1);
    private volatile bool _indexed;

    public MongoSagaCollection(IMongoCollection<TSaga> collection, IEnumerable<CreateIndexModel<TSaga>> indexes)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(indexes);
        _collection = collection;
        _indexes = [.. indexes];
    }

    public string CollectionName => _collection.CollectionNamespace.CollectionName;

    /// <summary>The collection, once its indexes exist.</summary>
    public async Task<IMongoCollection<TSaga>> ReadyAsync(CancellationToken cancellationToken)
    {
        if (_indexed)
        {
            return _collection;
        }

        await _indexing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_indexed)
            {
                // Creating an index that exists with the same keys and options is a no-op on the server, so every
                // process may do this at start. A failure (server unreachable) leaves _indexed false: the message
                // that needed the collection is retried, and so is the index creation.
                if (_indexes.Count > 0)
                {
                    await _collection.Indexes.CreateManyAsync(_indexes, cancellationToken).ConfigureAwait(false);
                }

                _indexed = true;
            }
        }
        finally
        {
            _indexing.Release();
        }

        return _collection;
    }
}
