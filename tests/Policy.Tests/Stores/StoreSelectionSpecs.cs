using MassTransit;
using MassTransit.Saga;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MongoDB.Driver;
using Treecast.Hosting;
using Treecast.Persistence.Sagas;
using Treecast.Policy.Operations;
using Treecast.Policy.Policies;
using Treecast.Policy.Sagas;
using Treecast.Policy.Workloads;

namespace Treecast.Policy.Tests.Stores;

/// <summary>The policy service picks its stores by configuration. No server needed: nothing is read or written.</summary>
public sealed class StoreSelectionSpecs
{
    [Fact]
    public async Task Without_a_connection_string_everything_is_in_memory()
    {
        using var host = Build([]);
        await using var scope = host.Services.CreateAsyncScope();

        Assert.IsType<InMemoryPolicyStore>(host.Services.GetRequiredService<IPolicyStore>());
        Assert.IsType<SagaRepositoryOperationReadModel>(host.Services.GetRequiredService<IOperationReadModel>());
        Assert.IsType<InMemoryWorkloadLedger>(host.Services.GetRequiredService<IWorkloadLedger>());
        Assert.IsNotType<MongoSagaRepositoryContextFactory<BroadcastOperationState>>(
            scope.ServiceProvider.GetRequiredService<ISagaRepositoryContextFactory<BroadcastOperationState>>());
        Assert.Null(host.Services.GetService<IMongoClient>());
    }

    [Fact]
    public async Task With_a_connection_string_sagas_and_policy_records_are_in_the_policy_database()
    {
        using var host = Build(new() { ["Mongo:ConnectionString"] = "mongodb://localhost:27017" });
        await using var scope = host.Services.CreateAsyncScope();

        Assert.IsType<MongoPolicyStore>(host.Services.GetRequiredService<IPolicyStore>());
        Assert.IsType<MongoOperationReadModel>(host.Services.GetRequiredService<IOperationReadModel>());
        Assert.IsType<MongoWorkloadLedger>(host.Services.GetRequiredService<IWorkloadLedger>());
        Assert.IsType<MongoSagaRepositoryContextFactory<BroadcastOperationState>>(
            scope.ServiceProvider.GetRequiredService<ISagaRepositoryContextFactory<BroadcastOperationState>>());
        Assert.IsType<MongoSagaRepositoryContextFactory<DeadlineWatchState>>(
            scope.ServiceProvider.GetRequiredService<ISagaRepositoryContextFactory<DeadlineWatchState>>());
        Assert.Equal("broadcast_operations", host.Services.GetRequiredService<MongoSagaCollection<BroadcastOperationState>>().CollectionName);
        Assert.Equal("deadline_watches", host.Services.GetRequiredService<MongoSagaCollection<DeadlineWatchState>>().CollectionName);
        Assert.Equal(
            "treecast-policy",
            host.Services.GetRequiredKeyedService<IMongoDatabase>(PolicyServiceExtensions.DefaultDatabase).DatabaseNamespace.DatabaseName);
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddPolicyService();
        builder.AddTreecastBus();
        return builder.Build();
    }
}
