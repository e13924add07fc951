using MassTransit;
using MassTransit.Saga;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MongoDB.Driver;
using Treecast.Persistence.Bson;
using Treecast.Persistence.Sagas;
using Treecast.Persistence.Tests.Support;

namespace Treecast.Persistence.Tests;

/// <summary>The store is chosen by configuration, and the saga repository is wired into MassTransit. No server needed.</summary>
public sealed class MongoRegistrationSpecs
{
    public MongoRegistrationSpecs() => TreecastBsonConventions.Register();

    [Fact]
    public void Without_a_connection_string_no_database_is_registered()
    {
        var services = new ServiceCollection();

        var useMongo = services.AddTreecastMongo(Configuration(new Dictionary<string, string?>()));

        Assert.False(useMongo);
        using var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetService<IMongoDatabase>());
    }

    [Fact]
    public void With_a_connection_string_the_configured_database_is_registered()
    {
        var services = new ServiceCollection();

        var useMongo = services.AddTreecastMongo(Configuration(new Dictionary<string, string?>
        {
            ["Mongo:ConnectionString"] = "mongodb://localhost:27017",
            ["Mongo:Database"] = "treecast-policy",
        }));

        Assert.True(useMongo);
        using var provider = services.BuildServiceProvider();
        Assert.Equal("treecast-policy", provider.GetRequiredService<IMongoDatabase>().DatabaseNamespace.DatabaseName);
    }

    [Fact]
    public void The_database_defaults_to_treecast()
    {
        var services = new ServiceCollection();
        services.AddTreecastMongo(Configuration(new Dictionary<string, string?> { ["Mongo:ConnectionString"] = "mongodb://localhost:27017" }));

        using var provider = services.BuildServiceProvider();
        Assert.Equal("treecast", provider.GetRequiredService<IMongoDatabase>().DatabaseNamespace.DatabaseName);
    }

    [Fact]
    public async Task A_saga_registered_with_MongoRepository_is_served_by_the_mongo_repository()
    {
        var services = new ServiceCollection();
        services.AddTreecastMongo(Configuration(new Dictionary<string, string?> { ["Mongo:ConnectionString"] = "mongodb://localhost:27017" }));
        services.AddMassTransit(x => x.AddSagaStateMachine<CounterStateMachine, CounterSaga>().MongoRepository("counters"));

        // Resolving wires everything up but touches no server: MongoDB is first contacted on the first message.
        await using var provider = services.BuildServiceProvider(true);
        await using var scope = provider.CreateAsyncScope();
        Assert.IsType<MongoSagaRepositoryContextFactory<CounterSaga>>(scope.ServiceProvider.GetRequiredService<ISagaRepositoryContextFactory<CounterSaga>>());
        Assert.IsType<MongoSagaRepositoryContextFactory<CounterSaga>>(scope.ServiceProvider.GetRequiredService<IQuerySagaRepositoryContextFactory<CounterSaga>>());
        Assert.IsType<MongoSagaRepositoryContextFactory<CounterSaga>>(scope.ServiceProvider.GetRequiredService<ILoadSagaRepositoryContextFactory<CounterSaga>>());
        Assert.Equal("counters", provider.GetRequiredService<MongoSagaCollection<CounterSaga>>().CollectionName);
        Assert.NotNull(provider.GetRequiredService<ILoadSagaRepository<CounterSaga>>());
    }

    [Fact]
    public async Task MongoRepository_without_a_database_says_how_to_fix_it()
    {
        var services = new ServiceCollection();
        services.AddMassTransit(x => x.AddSagaStateMachine<CounterStateMachine, CounterSaga>().MongoRepository("counters"));

        await using var provider = services.BuildServiceProvider(true);
        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<MongoSagaCollection<CounterSaga>>());
        Assert.Contains("Mongo:ConnectionString", error.Message);
    }

    [Fact]
    public void The_state_index_is_declared_for_sagas_with_a_current_state()
    {
        var options = new MongoSagaRepositoryOptions<CounterSaga>("counters")
            .Index(k => k.Ascending(x => x.Label));

        var keys = options.AllIndexes()
            .Select(i => i.Keys.Render(new RenderArgs<CounterSaga>(
                MongoDB.Bson.Serialization.BsonSerializer.LookupSerializer<CounterSaga>(),
                MongoDB.Bson.Serialization.BsonSerializer.SerializerRegistry)))
            .ToList();

        Assert.Equal([new MongoDB.Bson.BsonDocument("CurrentState", 1), new MongoDB.Bson.BsonDocument("Label", 1)], keys);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
