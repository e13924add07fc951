using Treecast.Hosting;

namespace Treecast.Policy;

public static class PolicyServiceExtensions
{
    /// <summary>Registers the policy service: its stores, workers and bus consumers.</summary>
    public static IHostApplicationBuilder AddPolicyService(this IHostApplicationBuilder builder)
    {
        builder.Services.AddBusParticipant(new BusParticipant("policy", _ => { }));
        return builder;
    }
}
