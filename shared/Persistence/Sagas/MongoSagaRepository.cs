using MassTransit;
using MassTransit.Saga;
using MongoDB.Driver;
using Treecast.Persistence.Bson;

namespace Treecast.Persistence.Sagas;

/// <summary>A MongoDB saga repository built by hand, outside dependency injection (tests, tools).</summary>
public static class MongoSagaRepository<TSaga>
    where TSaga : class, ISagaVersion
{
    public static ISagaRepository<TSaga> Create(IMongoCollection<TSaga> collection) =>
        Create(collection, new MongoSagaRepositoryOptions<TSaga>(collection.CollectionNamespace.CollectionName));

    public static ISagaRepository<TSaga> Create(IMongoCollection<TSaga> collection, MongoSagaRepositoryOptions<TSaga> options)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(options);
        var factory = CreateContextFactory(collection, options);
        return new SagaRepository<TSaga>(factory, factory, factory);
    }

    /// <summary>The context factory itself, for driving the repository one operation at a time.</summary>
    public static MongoSagaRepositoryContextFactory<TSaga> CreateContextFactory(
        IMongoCollection<TSaga> collection,
        MongoSagaRepositoryOptions<TSaga> options)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(options);
        TreecastBsonConventions.Register();
        return new MongoSagaRepositoryContextFactory<TSaga>(
            new MongoSagaCollection<TSaga>(collection, options.AllIndexes()),
            new SagaConsumeContextFactory<MongoSagaCollection<TSaga>, TSaga>());
    }
}
