using Treecast.Hosting;

namespace Treecast.Agent;

public static class AgentServiceExtensions
{
    /// <summary>Registers the agent service: its stores, workers and bus consumers.</summary>
    public static IHostApplicationBuilder AddAgentService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddBusParticipant(new BusParticipant("agent", _ => { }));
        return builder;
    }
}
