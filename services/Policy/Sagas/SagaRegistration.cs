using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Treecast.Policy.Sagas;

/// <summary>Registers both sagas (broadcast operation, deadline watch) with their repositories.</summary>
public static class SagaRegistration
{
    public static IBusRegistrationConfigurator AddTreecastSagas(this IBusRegistrationConfigurator bus)
    {
        // The state machines are singletons built from DI; these are their constructor dependencies.
        bus.TryAddSingleton(TimeProvider.System);
        bus.AddOptions<BroadcastTimeouts>()
            .Configure<IServiceProvider>((timeouts, services) =>
                services.GetService<IConfiguration>()?.GetSection(BroadcastTimeouts.Section).Bind(timeouts));

        // The repository choice lives here alone: in memory until the MongoDB repository arrives.
        bus.AddSagaStateMachine<BroadcastOperationStateMachine, BroadcastOperationState>(
                typeof(OutboxSagaDefinition<BroadcastOperationState>))
            .InMemoryRepository();
        bus.AddSagaStateMachine<DeadlineWatchStateMachine, DeadlineWatchState>(
                typeof(OutboxSagaDefinition<DeadlineWatchState>))
            .InMemoryRepository();
        return bus;
    }
}
