using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Treecast.Hosting.Sender;

namespace Treecast.Hosting;

public static class BusHostingExtensions
{
    /// <summary>Adds a service's consumers and endpoints to the bus that <see cref="AddTreecastBus"/> builds.</summary>
    public static IServiceCollection AddBusParticipant(this IServiceCollection services, BusParticipant participant)
    {
        services.AddSingleton(participant);
        return services;
    }

    /// <summary>
    /// Builds the one bus of this process from every registered <see cref="BusParticipant"/>: RabbitMQ or
    /// in-memory, as the <c>Bus</c> section says. Call once, after the services' <c>Add*Service</c> calls.
    /// </summary>
    public static IHostApplicationBuilder AddTreecastBus(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();
        builder.Services.AddSingleton(Options.Create(options));
        var participants = builder.Services
            .Where(d => d.ServiceType == typeof(BusParticipant))
            .Select(d => d.ImplementationInstance)
            .OfType<BusParticipant>()
            .ToList();

        builder.Services.AddMassTransit(x =>
        {
            // MassTransit otherwise reports usage to the internet; nothing here may call out.
            x.DisableUsageTelemetry();
            x.SetKebabCaseEndpointNameFormatter();
            foreach (var participant in participants)
            {
                participant.Register(x);
            }

            if (options.Transport == BusTransport.RabbitMq)
            {
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(new Uri(options.RabbitMqUri));
                    cfg.UseBrokerSenderIdentity(options.RabbitMqUser);
                    ConfigureCommon(context, cfg, participants);
                });
            }
            else
            {
                x.UsingInMemory((context, cfg) => ConfigureCommon(context, cfg, participants));
            }
        });
        return builder;
    }

    private static void ConfigureCommon<TEndpoint>(
        IBusRegistrationContext context,
        IBusFactoryConfigurator<TEndpoint> cfg,
        IReadOnlyList<BusParticipant> participants)
        where TEndpoint : IReceiveEndpointConfigurator
    {
        // Transient faults (a broker hiccup, an optimistic-concurrency conflict) are retried; a message
        // that still fails goes to the endpoint's _error queue, never lost. Bad input is not retried.
        cfg.UseMessageRetry(r =>
        {
            r.Ignore<InvalidMessageException>();
            r.Intervals(50, 200, 500, 1000, 2000);
        });
        cfg.UseConsumeFilter(typeof(Telemetry.OperationLogScopeFilter<>), context);
        foreach (var participant in participants)
        {
            participant.ConfigureEndpoints?.Invoke(context, cfg);
        }

        cfg.ConfigureEndpoints(context);
    }
}
