using Treecast.Hosting;

namespace Treecast.Topology;

public static class TopologyServiceExtensions
{
    /// <summary>Registers the topology service: its stores, workers and bus consumers.</summary>
    public static IHostApplicationBuilder AddTopologyService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddBusParticipant(new BusParticipant("topology", _ => { }));
        return builder;
    }
}
