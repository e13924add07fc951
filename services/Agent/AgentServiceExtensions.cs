using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Treecast.Agent.Consumers;
using Treecast.Agent.Hosting;
using Treecast.Agent.Transfer;
using Treecast.Agent.Vmm;
using Treecast.Agent.Vmm.Qemu;
using Treecast.Contracts;
using Treecast.Hosting;

namespace Treecast.Agent;

public static class AgentServiceExtensions
{
    /// <summary>
    /// Registers the agent service: one <see cref="AgentHost"/> per host (or one bound from the <c>Agent</c> section when
    /// none are given), the <see cref="AgentDirectory"/> listing them, and the bus participant with the agent's consumers
    /// on every hosted agent's queue. Each agent's VMM driver is the one its <see cref="AgentOptions.Vmm"/> names among those
    /// registered (<see cref="ConfiguredVmmFactory"/>): <c>simulated</c> and <c>qemu</c>; QEMU VMMs take their options
    /// from <c>Agent:Qemu</c>. Agents speak mutual TLS with the credentials of <see cref="AgentOptions.Tls"/> (read here,
    /// so bad ones fail registration with an <see cref="InvalidAgentOptionsException"/>).
    /// </summary>
    public static IHostApplicationBuilder AddAgentService(this IHostApplicationBuilder builder, params AgentOptions[] hosts)
    {
        if (hosts.Length == 0)
        {
            hosts = [builder.Configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions()];
        }

        foreach (var host in hosts)
        {
            host.Validate();
            // Read and checked now: a missing or wrong certificate stops the agent before anything starts.
            host.Tls.Resolve(host.VmmId);
        }

        var duplicate = hosts.GroupBy(h => h.VmmId).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"VMM id {duplicate.Key} is configured for {duplicate.Count()} agents; every agent needs its own id.");
        }

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(builder.Configuration.GetSection($"{AgentOptions.Section}:{QemuOptions.Section}").Get<QemuOptions>() ?? new QemuOptions());
        services.AddVmmDriver<SimulatedVmmFactory>();
        services.AddVmmDriver<QemuVmmFactory>();
        services.TryAddSingleton<IVmmFactory, ConfiguredVmmFactory>();
        services.TryAddSingleton<AgentNodeFactory>();
        services.AddSingleton(sp => new AgentDirectory(
            hosts.Select(options => new AgentHost(
                options,
                sp.GetRequiredService<AgentNodeFactory>(),
                sp.GetRequiredService<IBus>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetRequiredService<ILogger<AgentHost>>()))
            .ToList(),
            sp.GetRequiredService<ILogger<AgentDirectory>>()));
        for (var i = 0; i < hosts.Length; i++)
        {
            var index = i;
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<AgentDirectory>().Hosts[index]);
        }

        services.AddBusParticipant(new BusParticipant("agent", AddAgentConsumers, (context, cfg) => ConfigureAgentQueues(context, cfg, hosts)));
        return builder;
    }

    /// <summary>
    /// Registers a VMM driver under its <see cref="VmmDriver.Name"/>, for agents whose <see cref="AgentOptions.Vmm"/> names
    /// it; a driver registered twice counts once.
    /// </summary>
    public static IServiceCollection AddVmmDriver<TDriver>(this IServiceCollection services)
        where TDriver : VmmDriver
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<VmmDriver, TDriver>());
        return services;
    }

    /// <summary>The agent's consumers; they run on every hosted agent's queue (see <see cref="ConfigureAgentQueues"/>), not on queues of their own.</summary>
    public static void AddAgentConsumers(IBusRegistrationConfigurator configurator)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        configurator.AddConsumer<PauseVmsConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<AnnouncePendingTransferConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<PendingTransferAnnouncedConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<StartTransferConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<ResumeVmsConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<StartWorkloadConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<CancelTransferConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<BroadcastOperationFinishedConsumer>().ExcludeFromConfigureEndpoints();
        configurator.AddConsumer<QueryWorkloadConsumer>().ExcludeFromConfigureEndpoints();
    }

    /// <summary>
    /// One queue per hosted agent, <c>agent-{vmmId}</c>, with every agent consumer on it. On RabbitMQ the queue expires
    /// when its agent has been gone for <see cref="AgentOptions.QueueExpiresAfter"/>, so a VMM that left does not leave
    /// a queue gathering a message per broadcast forever, a command is carried out only when the broker says the
    /// commanding account sent it (<see cref="CommandSenderFilter{TCommand}"/>), and an announcement followed only when
    /// the root's agent sent it (<see cref="AnnouncerFilter"/>); the in-memory bus has no accounts.
    /// </summary>
    private static void ConfigureAgentQueues(IBusRegistrationContext context, IBusFactoryConfigurator cfg, IReadOnlyList<AgentOptions> hosts)
    {
        var account = context.GetRequiredService<IOptions<BusOptions>>().Value.RabbitMqUser;
        foreach (var host in hosts)
        {
            cfg.ReceiveEndpoint(Addresses.AgentQueue(host.VmmId), endpoint =>
            {
                var rabbitMq = endpoint as IRabbitMqReceiveEndpointConfigurator;
                if (rabbitMq is not null)
                {
                    rabbitMq.QueueExpiration = host.QueueExpiresAfter;
                }

                var sender = rabbitMq is null ? null : host;
                endpoint.UseMessageRetry(r =>
                {
                    r.Ignore<InvalidMessageException>();
                    r.Intervals(100, 500, 1000);
                });
                ConfigureCommand<PauseVmsConsumer, PauseVms>(endpoint, context, sender);
                ConfigureCommand<AnnouncePendingTransferConsumer, AnnouncePendingTransfer>(endpoint, context, sender);
                ConfigureCommand<StartTransferConsumer, StartTransfer>(endpoint, context, sender);
                ConfigureCommand<ResumeVmsConsumer, ResumeVms>(endpoint, context, sender);
                ConfigureCommand<StartWorkloadConsumer, StartWorkload>(endpoint, context, sender);
                ConfigureCommand<CancelTransferConsumer, CancelTransfer>(endpoint, context, sender);
                ConfigureCommand<QueryWorkloadConsumer, QueryWorkload>(endpoint, context, sender);
                ConfigureAnnouncements(endpoint, context, rabbitMq is null ? null : new AnnouncerFilter(host.VmmId, account));
                endpoint.ConfigureConsumer<BroadcastOperationFinishedConsumer>(context);
            });
        }
    }

    /// <summary>
    /// An announcement arrives only by Send to this agent's exchange, from the root (<see cref="AnnouncementDelivery"/>):
    /// the queue is not bound to the type's exchange, so no agent hears another's (each carries its own slice of the tree
    /// and the token). With <paramref name="announcer"/>, only from the root's account.
    /// </summary>
    private static void ConfigureAnnouncements(IReceiveEndpointConfigurator endpoint, IBusRegistrationContext context, AnnouncerFilter? announcer)
    {
        endpoint.ConfigureMessageTopology<PendingTransferAnnounced>(false);
        endpoint.ConfigureConsumer<PendingTransferAnnouncedConsumer>(context, consumer =>
        {
            if (announcer is not null)
            {
                consumer.Message<PendingTransferAnnounced>(message => message.UseFilter(announcer));
            }
        });
    }

    /// <summary>
    /// A command arrives only by Send to this agent's exchange (events reach every agent's queue through their types'
    /// exchanges); with <paramref name="sender"/>, only from its <see cref="AgentOptions.CommandSender"/>.
    /// </summary>
    private static void ConfigureCommand<TConsumer, TCommand>(IReceiveEndpointConfigurator endpoint, IBusRegistrationContext context, AgentOptions? sender)
        where TConsumer : class, IConsumer<TCommand>
        where TCommand : class
    {
        endpoint.ConfigureMessageTopology<TCommand>(false);
        endpoint.ConfigureConsumer<TConsumer>(context, consumer =>
        {
            if (sender is not null)
            {
                consumer.Message<TCommand>(message => message.UseFilter(new CommandSenderFilter<TCommand>(sender)));
            }
        });
    }
}
