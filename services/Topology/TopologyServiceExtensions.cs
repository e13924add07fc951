using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MongoDB.Driver;
using Treecast.Contracts;
using Treecast.Hosting;
using Treecast.Hosting.ApiAccess;
using Treecast.Persistence;
using Treecast.Topology.Consumers;
using Treecast.Topology.Liveness;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology;

public static class TopologyServiceExtensions
{
    /// <summary>The topology service's own MongoDB database unless <c>Mongo:Database</c> names another.</summary>
    public const string DefaultDatabase = "treecast-topology";

    /// <summary>Registers the topology service: its stores, workers and bus consumers.</summary>
    public static IHostApplicationBuilder AddTopologyService(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddApiAccess();
        // VM states by name in GET /vmms ("Paused", not 1), as the policy API and the MongoDB documents write them.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        builder.Services.AddOptions<TopologyOptions>()
            .BindConfiguration(TopologyOptions.Section)
            .Validate(o => o.MissedHeartbeatsBeforeLost >= 1, "Topology:MissedHeartbeatsBeforeLost must be 1 or more.")
            .Validate(o => o.LivenessCheckInterval > TimeSpan.Zero, "Topology:LivenessCheckInterval must be positive, for example 00:00:01.")
            .Validate(o => o.DefaultFanOut >= 0, "Topology:DefaultFanOut must be 1 or more, or 0 to pick it by image size.")
            .Validate(o => o.DefaultStripes is >= 1 and <= VmmTree.MaxStripes, $"Topology:DefaultStripes must be 1 to {VmmTree.MaxStripes}.")
            .Validate(o => o.ReconnectGrace >= TimeSpan.Zero, "Topology:ReconnectGrace must be 0 or more, for example 00:00:30.")
            .ValidateOnStart();

        // TryAdd: the standalone host runs every service in one container, and others may bring their own clock.
        builder.Services.TryAddSingleton(TimeProvider.System);
        if (builder.Services.AddTreecastMongo(builder.Configuration, DefaultDatabase))
        {
            // Added before the TryAdds below, which then keep these: MongoDB when a connection string is given.
            builder.Services.TryAddSingleton<IVmmRegistry>(provider =>
                new MongoVmmRegistry(provider.GetRequiredKeyedService<IMongoDatabase>(DefaultDatabase)));
            builder.Services.TryAddSingleton<ITreeVersions>(provider => new MongoTreeVersions(
                provider.GetRequiredKeyedService<IMongoDatabase>(DefaultDatabase),
                provider.GetRequiredService<TimeProvider>()));
        }

        builder.Services.TryAddSingleton<IVmmRegistry, InMemoryVmmRegistry>();
        builder.Services.TryAddSingleton<ITreeVersions, InMemoryTreeVersions>();
        builder.Services.TryAddSingleton<TreeBuilder>();
        builder.Services.TryAddSingleton<TreeResolver>();
        builder.Services.TryAddSingleton<HeartbeatReception>();
        builder.Services.AddHostedService<LivenessMonitor>();
        builder.Services.AddBusParticipant(new BusParticipant("topology", AddTopologyConsumers));
        return builder;
    }

    /// <summary>
    /// The topology consumers on their one queue: tree requests and repairs are sent to <c>queue:topology</c>,
    /// and the queue subscribes to published heartbeats. Public so tests register exactly what the service runs.
    /// </summary>
    public static void AddTopologyConsumers(IBusRegistrationConfigurator configurator)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        configurator.AddConsumer<VmmHeartbeatConsumer>().Endpoint(e => e.Name = Addresses.TopologyQueue);
        configurator.AddConsumer<ResolveTreeConsumer>().Endpoint(e => e.Name = Addresses.TopologyQueue);
        configurator.AddConsumer<RepairTreeConsumer>().Endpoint(e => e.Name = Addresses.TopologyQueue);
        // The one instance the liveness monitor reads, told when the topology queue starts and stops receiving.
        configurator.TryAddSingleton<HeartbeatReception>();
        configurator.AddReceiveEndpointObserver(provider => provider.GetRequiredService<HeartbeatReception>());
    }
}
