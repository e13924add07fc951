using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MongoDB.Driver;
using Treecast.Persistence.Bson;

namespace Treecast.Persistence.Sagas;

public static class MongoSagaRepositoryRegistrationExtensions
{
    /// <summary>
    /// Stores this saga in MongoDB, one document per instance in <paramref name="collectionName"/> of the database
    /// that <c>AddTreecastMongo</c> registered. Used like MassTransit's own repositories:
    /// <c>x.AddSagaStateMachine&lt;M, S&gt;().MongoRepository("broadcast_operations", r =&gt; r.Index(...))</c>.
    /// </summary>
    public static ISagaRegistrationConfigurator<TSaga> MongoRepository<TSaga>(
        this ISagaRegistrationConfigurator<TSaga> configurator,
        string collectionName,
        Action<MongoSagaRepositoryOptions<TSaga>>? configure = null)
        where TSaga : class, ISagaVersion
    {
        ArgumentNullException.ThrowIfNull(configurator);
        var options = new MongoSagaRepositoryOptions<TSaga>(collectionName);
        configure?.Invoke(options);
        return configurator.Repository(registration => Register(registration, options));
    }

    /// <summary>As the other overload, in the given <paramref name="database"/>.</summary>
    public static ISagaRegistrationConfigurator<TSaga> MongoRepository<TSaga>(
        this ISagaRegistrationConfigurator<TSaga> configurator,
        IMongoDatabase database,
        string collectionName,
        Action<MongoSagaRepositoryOptions<TSaga>>? configure = null)
        where TSaga : class, ISagaVersion
    {
        ArgumentNullException.ThrowIfNull(database);
        return configurator.MongoRepository(collectionName, options =>
        {
            options.Database = database;
            configure?.Invoke(options);
        });
    }

    private static void Register<TSaga>(ISagaRepositoryRegistrationConfigurator<TSaga> registration, MongoSagaRepositoryOptions<TSaga> options)
        where TSaga : class, ISagaVersion
    {
        // The class map of TSaga is built on first use, which must come after the conventions.
        TreecastBsonConventions.Register();

        registration.TryAddSingleton(provider =>
        {
            var database = options.Database
                ?? (options.DatabaseKey is { } key ? provider.GetKeyedService<IMongoDatabase>(key) : provider.GetService<IMongoDatabase>())
                ?? throw new InvalidOperationException(
                    $"The MongoDB repository of saga {typeof(TSaga).Name} has no database: set Mongo:ConnectionString "
                    + "and call services.AddTreecastMongo(configuration), or pass a database to MongoRepository(...).");
            return new MongoSagaCollection<TSaga>(database.GetCollection<TSaga>(options.CollectionName), options.AllIndexes());
        });

        // The same components MassTransit's own repositories register: load and query for the harness and
        // read-outs, then the per-message repository context factory.
        registration.RegisterLoadSagaRepository<TSaga, MongoSagaRepositoryContextFactory<TSaga>>();
        registration.RegisterQuerySagaRepository<TSaga, MongoSagaRepositoryContextFactory<TSaga>>();
        registration.RegisterSagaRepository<TSaga, MongoSagaCollection<TSaga>,
            SagaConsumeContextFactory<MongoSagaCollection<TSaga>, TSaga>, MongoSagaRepositoryContextFactory<TSaga>>();
    }
}
