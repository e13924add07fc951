using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Treecast.Agent.Runtime;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;
using Treecast.Agent.Vmm.Qemu;
using Treecast.Hosting;

namespace Treecast.Agent;

public static class AgentServiceExtensions
{
    /// <summary>
    /// Registers the agent service: one <see cref="AgentRuntime"/> per host (or one bound from the <c>Agent</c>
    /// section when none are given), the <see cref="AgentDirectory"/> listing them, and the bus participant. Each agent's
    /// VMM driver is the one its <see cref="AgentOptions.Vmm"/> names (<see cref="ConfiguredVmmFactory"/>); QEMU VMMs take
    /// their options from <c>Agent:Qemu</c>.
    /// </summary>
    public static IHostApplicationBuilder AddAgentService(this IHostApplicationBuilder builder, params AgentOptions[] hosts)
    {
        if (hosts.Length == 0)
        {
            hosts = [builder.Configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions()];
        }

        var duplicate = hosts.GroupBy(h => h.VmmId).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"VMM id {duplicate.Key} is configured for {duplicate.Count()} agents; every agent needs its own id.");
        }

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrpcChannelPool>();
        services.TryAddSingleton(builder.Configuration.GetSection($"{AgentOptions.Section}:{QemuOptions.Section}").Get<QemuOptions>() ?? new QemuOptions());
        services.TryAddSingleton<SimulatedVmmFactory>();
        services.TryAddSingleton<QemuVmmFactory>();
        services.TryAddSingleton<IVmmFactory, ConfiguredVmmFactory>();
        services.AddSingleton(sp => new AgentDirectory(hosts
            .Select(options => new AgentRuntime(
                options,
                sp.GetRequiredService<IBus>(),
                sp.GetRequiredService<IVmmFactory>(),
                sp.GetRequiredService<GrpcChannelPool>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>()))
            .ToList()));
        for (var i = 0; i < hosts.Length; i++)
        {
            var index = i;
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<AgentDirectory>().Runtimes[index]);
        }

        // Each agent connects its own queue when it starts, bound to its runtime; nothing to register up front.
        services.AddBusParticipant(new BusParticipant("agent", _ => { }));
        return builder;
    }
}
