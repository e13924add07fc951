using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MongoDB.Driver;
using Treecast.Persistence.Sagas;
using Treecast.Policy.Operations;
using Treecast.Policy.Workloads;

namespace Treecast.Policy.Sagas;

/// <summary>Registers both sagas (broadcast operation, deadline watch) with their repositories.</summary>
public static class SagaRegistration
{
    /// <summary>The collection of broadcast operation sagas, one document per operation.</summary>
    public const string OperationsCollection = "broadcast_operations";

    /// <summary>The collection of deadline watch sagas, one document per watch.</summary>
    public const string WatchesCollection = "deadline_watches";

    /// <param name="bus">The bus being configured; also gets what the sagas read (the operation progress store).</param>
    /// <param name="useMongo">
    /// True to keep both sagas in the policy service's MongoDB database (the keyed database
    /// <see cref="PolicyServiceExtensions.DefaultDatabase"/> that <c>AddTreecastMongo</c> registered), so operations
    /// survive a restart of the policy service; false for MassTransit's in-memory repositories (the embedded default).
    /// </param>
    public static IBusRegistrationConfigurator AddTreecastSagas(this IBusRegistrationConfigurator bus, bool useMongo = false)
    {
        // The state machines are singletons built from DI; these are their constructor dependencies.
        bus.TryAddSingleton(TimeProvider.System);
        bus.AddOptions<BroadcastTimeouts>()
            .Configure<IServiceProvider>((timeouts, services) =>
                services.GetService<IConfiguration>()?.GetSection(BroadcastTimeouts.Section).Bind(timeouts));
        bus.AddOptions<DeadlineWatchOptions>()
            .BindConfiguration(DeadlineWatchOptions.Section)
            .Validate(o => o.ConfirmTimeout > TimeSpan.Zero, "Policy:Deadline:ConfirmTimeout must be positive, for example 00:00:10.")
            .ValidateOnStart();

        // The policy service registers the ledger of its store first; a host with the sagas alone gets memory.
        bus.TryAddSingleton<IWorkloadLedger, InMemoryWorkloadLedger>();
        bus.TryAddSingleton<OperationTransitionActivity>();
        if (useMongo)
        {
            bus.TryAddSingleton<IOperationProgressStore>(provider =>
                new MongoOperationProgressStore(provider.GetRequiredKeyedService<IMongoDatabase>(PolicyServiceExtensions.DefaultDatabase)));
        }
        else
        {
            bus.TryAddSingleton<IOperationProgressStore, InMemoryOperationProgressStore>();
        }

        // The repository choice lives here alone.
        var operations = bus.AddSagaStateMachine<BroadcastOperationStateMachine, BroadcastOperationState>(
            typeof(BroadcastOperationSagaDefinition));
        var watches = bus.AddSagaStateMachine<DeadlineWatchStateMachine, DeadlineWatchState>(
            typeof(OutboxSagaDefinition<DeadlineWatchState>));
        if (!useMongo)
        {
            operations.InMemoryRepository();
            watches.InMemoryRepository();
            return bus;
        }

        // The operators' queries: by state (indexed by the repository), by root, newest first; and by VMM, for a lost one.
        operations.MongoRepository(OperationsCollection, r =>
        {
            r.DatabaseKey = PolicyServiceExtensions.DefaultDatabase;
            r.Index(k => k.Ascending(x => x.RootVmmId), "root")
                .Index(k => k.Descending("RequestedAt.DateTime"), "requested_at")
                .Index(k => k.Ascending("Hosts.VmmId"), "hosts");
        });
        watches.MongoRepository(WatchesCollection, r =>
        {
            r.DatabaseKey = PolicyServiceExtensions.DefaultDatabase;

            // Completions find their watches by workload.
            r.Index(k => k.Ascending(x => x.WorkloadId), "workload")
                .Index(k => k.Ascending(x => x.RootVmmId), "root")
                .Index(k => k.Descending("RequestedAt.DateTime"), "requested_at");
        });
        return bus;
    }
}
