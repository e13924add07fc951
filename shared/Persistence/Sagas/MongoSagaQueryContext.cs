using MassTransit;
using MassTransit.Middleware;
using MassTransit.Saga;
using MongoDB.Driver;

namespace Treecast.Persistence.Sagas;

/// <summary>Reads sagas outside a message: by id, and by expression (the test harness and operator read-outs use these).</summary>
public sealed class MongoSagaQueryContext<TSaga> : BasePipeContext, QuerySagaRepositoryContext<TSaga>, LoadSagaRepositoryContext<TSaga>
    where TSaga : class, ISagaVersion
{
    private readonly MongoSagaCollection<TSaga> _sagas;

    public MongoSagaQueryContext(MongoSagaCollection<TSaga> sagas, CancellationToken cancellationToken)
        : base(cancellationToken)
    {
        _sagas = sagas;
    }

    // MassTransit declares this non-null but expects null for a saga that does not exist, as its own repositories return.
    public async Task<TSaga> Load(Guid correlationId)
    {
        var collection = await _sagas.ReadyAsync(CancellationToken).ConfigureAwait(false);
        return await collection.Find(MongoSagaFilters.ById<TSaga>(correlationId))
            .FirstOrDefaultAsync(CancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<SagaRepositoryQueryContext<TSaga>> Query(ISagaQuery<TSaga> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var collection = await _sagas.ReadyAsync(cancellationToken).ConfigureAwait(false);
        var ids = await collection.Find(query.FilterExpression)
            .Project(x => x.CorrelationId)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return new DefaultSagaRepositoryQueryContext<TSaga>(this, ids);
    }
}
