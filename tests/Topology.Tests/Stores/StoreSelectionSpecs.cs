using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MongoDB.Driver;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests.Stores;

/// <summary>The topology service picks its stores by configuration. No server needed: nothing is read or written.</summary>
public sealed class StoreSelectionSpecs
{
    [Fact]
    public void Without_a_connection_string_the_stores_are_in_memory()
    {
        using var host = Build([]);

        Assert.IsType<InMemoryVmmRegistry>(host.Services.GetRequiredService<IVmmRegistry>());
        Assert.IsType<InMemoryTreeVersions>(host.Services.GetRequiredService<ITreeVersions>());
    }

    [Fact]
    public void With_a_connection_string_the_stores_are_in_the_topology_database()
    {
        using var host = Build(new() { ["Mongo:ConnectionString"] = "mongodb://localhost:27017" });

        Assert.IsType<MongoVmmRegistry>(host.Services.GetRequiredService<IVmmRegistry>());
        Assert.IsType<MongoTreeVersions>(host.Services.GetRequiredService<ITreeVersions>());
        Assert.Equal("treecast-topology", Database(host));
    }

    [Fact]
    public void The_database_can_be_named_by_configuration()
    {
        using var host = Build(new() { ["Mongo:ConnectionString"] = "mongodb://localhost:27017", ["Mongo:Database"] = "fleet-7-topology" });

        Assert.Equal("fleet-7-topology", Database(host));
    }

    private static string Database(IHost host) =>
        host.Services.GetRequiredKeyedService<IMongoDatabase>(TopologyServiceExtensions.DefaultDatabase).DatabaseNamespace.DatabaseName;

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddTopologyService();
        return builder.Build();
    }
}
