using MassTransit;
using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Hosting.ApiAccess;
using Treecast.Persistence;
using Treecast.Policy.Api;
using Treecast.Policy.Dashboard;
using Treecast.Policy.Evaluation;
using Treecast.Policy.Ingress;
using Treecast.Policy.Operations;
using Treecast.Policy.Policies;
using Treecast.Policy.Sagas;
using Treecast.Policy.Workloads;

namespace Treecast.Policy;

public static class PolicyServiceExtensions
{
    /// <summary>The policy service's own MongoDB database unless <c>Mongo:Database</c> names another.</summary>
    public const string DefaultDatabase = "treecast-policy";

    /// <summary>
    /// Registers the policy service: its policies, their file watcher, the event ingress, the sagas and who may call its
    /// HTTP API (<c>Api</c> settings). With
    /// <c>Mongo:ConnectionString</c> set, the sagas, the workload ledger and the record of loaded policy files live in MongoDB;
    /// without it, in memory.
    /// </summary>
    public static IHostApplicationBuilder AddPolicyService(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<PolicyOptions>()
            .BindConfiguration(PolicyOptions.Section)
            .Validate(o => o.UnmatchedSummaryInterval > TimeSpan.Zero, "Policy:UnmatchedSummaryInterval must be positive, for example 00:01:00.")
            .ValidateOnStart();
        builder.AddApiAccess(servesCommands: true);
        var useMongo = builder.Services.AddTreecastMongo(builder.Configuration, DefaultDatabase);
        if (useMongo)
        {
            builder.Services.AddSingleton<IPolicyStore>(provider => new MongoPolicyStore(
                provider.GetRequiredKeyedService<IMongoDatabase>(DefaultDatabase),
                provider.GetRequiredService<ILogger<MongoPolicyStore>>()));
            builder.Services.AddSingleton<IOperationReadModel, MongoOperationReadModel>();
            builder.Services.AddSingleton<IWorkloadLedger>(provider => new MongoWorkloadLedger(
                provider.GetRequiredKeyedService<IMongoDatabase>(DefaultDatabase)));
        }
        else
        {
            builder.Services.AddSingleton<IPolicyStore, InMemoryPolicyStore>();
            builder.Services.AddSingleton<IOperationReadModel, SagaRepositoryOperationReadModel>();
            builder.Services.AddSingleton<IWorkloadLedger, InMemoryWorkloadLedger>();
        }

        builder.Services.AddSingleton<PolicyFileReader>();
        builder.Services.AddSingleton<PolicyLoader>();
        builder.Services.AddSingleton<PolicyReloader>();
        builder.Services.AddSingleton<PolicyEvaluator>();
        builder.Services.AddSingleton<ObservedEventDispatcher>();
        builder.Services.AddSingleton<UnmatchedEvents>();
        builder.Services.AddSingleton<UnmatchedEventsSummary>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<UnmatchedEventsSummary>());

        // Before AddTreecastBus adds the bus: hosted services start in order, so policies are in force
        // (or the start refused) before the first event is consumed.
        builder.Services.AddHostedService<PolicyFileWatcher>();

        builder.Services.AddBusParticipant(new BusParticipant("policy", x => RegisterConsumers(x, useMongo), ConfigureExternalEventsEndpoint));
        return builder;
    }

    private static void RegisterConsumers(IBusRegistrationConfigurator x, bool useMongo)
    {
        x.AddTreecastSagas(useMongo);

        // Named for the service: the standalone host puts every service's endpoints on one bus.
        x.AddConsumer<WorkloadStartedConsumer>().Endpoint(e => e.Name = "policy-workload-started");
        x.AddConsumer<WorkloadCompletedConsumer>().Endpoint(e => e.Name = "policy-workload-completed");
        x.AddConsumer<TransferProgressConsumer, TransferProgressConsumerDefinition>().Endpoint(e => e.Name = "policy-transfer-progress");
        x.AddConsumer<VmmLostConsumer>().Endpoint(e => e.Name = "policy-vmm-lost");
        x.AddConsumer<OperationMetricsConsumer>().Endpoint(e => e.Name = "policy-operation-metrics");
        x.AddConsumer<ExternalEventConsumer>().ExcludeFromConfigureEndpoints();
    }

    /// <summary>External events handled at once (and fetched ahead) by one policy service.</summary>
    private const int ExternalEventsInFlight = 256;

    private static void ConfigureExternalEventsEndpoint(IBusRegistrationContext context, IBusFactoryConfigurator cfg)
    {
        cfg.ReceiveEndpoint(Addresses.PolicyExternalEventsQueue, e =>
        {
            // Monitoring systems send plain JSON without MassTransit's envelope; MassTransit's own
            // envelope (an ExternalEvent published on the bus) is still recognised by its content type.
            e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);

            // Events are independent (idempotent by event id, and the deadline decision is exact in any order), and
            // each one waits on a publish confirm: many in flight, not the default of two per core.
            e.PrefetchCount = ExternalEventsInFlight;
            e.ConcurrentMessageLimit = ExternalEventsInFlight;

            // A malformed event fails the same way every time: it goes to the _error queue at once. An
            // Ignore here would not do: the bus-wide retry around this one would still retry it. A retry
            // that handles the exception with no attempts marks it as retried, which the outer one respects.
            // Every other exception is left to the bus-wide retry.
            e.UseMessageRetry(r =>
            {
                r.Handle<MalformedExternalEventException>();
                r.None();
            });

            if (e is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                // The exchange is named by the published contract (README), not by a .NET type.
                rabbit.ConfigureConsumeTopology = false;
                rabbit.Bind(Addresses.ExternalEventsExchange, b => b.ExchangeType = "fanout");
                rabbit.Bind<ExternalEvent>();
            }

            // In memory the default consume topology subscribes the queue to published ExternalEvents,
            // which is how the standalone host injects them.
            e.ConfigureConsumer<ExternalEventConsumer>(context);
        });
    }

    /// <summary>Maps every route of the policy service: health, metrics, policies, operations, events and the dashboard.</summary>
    public static WebApplication MapPolicyService(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapServiceDefaults();
        app.MapPolicyEndpoints();
        app.MapOperationEndpoints();
        app.MapEventEndpoints();
        app.MapDashboard();
        return app;
    }
}
