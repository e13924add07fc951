using MassTransit;
using MassTransit.Saga;
using MongoDB.Driver;

namespace Treecast.Persistence.Sagas;

/// <summary>
/// MassTransit's entry point into the MongoDB saga repository: a repository context per message (send), and
/// query and load contexts for reads outside a message.
/// </summary>
public sealed class MongoSagaRepositoryContextFactory<TSaga> :
    ISagaRepositoryContextFactory<TSaga>,
    IQuerySagaRepositoryContextFactory<TSaga>,
    ILoadSagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISagaVersion
{
    private readonly MongoSagaCollection<TSaga> _sagas;
    private readonly ISagaConsumeContextFactory<MongoSagaCollection<TSaga>, TSaga> _factory;

    public MongoSagaRepositoryContextFactory(
        MongoSagaCollection<TSaga> sagas,
        ISagaConsumeContextFactory<MongoSagaCollection<TSaga>, TSaga> factory)
    {
        ArgumentNullException.ThrowIfNull(sagas);
        ArgumentNullException.ThrowIfNull(factory);
        _sagas = sagas;
        _factory = factory;
    }

    public void Probe(ProbeContext context)
    {
        context.Add("persistence", "mongodb");
        context.Add("collection", _sagas.CollectionName);
    }

    public Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class =>
        next.Send(new MongoSagaRepositoryContext<TSaga, T>(_sagas, context, _factory));

    public async Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class
    {
        var repositoryContext = new MongoSagaRepositoryContext<TSaga, T>(_sagas, context, _factory);
        var collection = await _sagas.ReadyAsync(context.CancellationToken).ConfigureAwait(false);
        var instances = await collection.Find(query.FilterExpression)
            .ToListAsync(context.CancellationToken)
            .ConfigureAwait(false);
        await next.Send(new LoadedSagaRepositoryQueryContext<TSaga, T>(repositoryContext, instances)).ConfigureAwait(false);
    }

    public Task<T> Execute<T>(Func<QuerySagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        asyncMethod(new MongoSagaQueryContext<TSaga>(_sagas, cancellationToken));

    public Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        asyncMethod(new MongoSagaQueryContext<TSaga>(_sagas, cancellationToken));
}
