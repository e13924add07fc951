using MassTransit;

namespace Treecast.Policy.Sagas;

/// <summary>
/// The receive endpoint of a Treecast saga: what a saga sends or publishes leaves only after its state is
/// saved, so a retried message (an optimistic-concurrency conflict) never emits a command twice.
/// </summary>
public sealed class OutboxSagaDefinition<TSaga> : SagaDefinition<TSaga>
    where TSaga : class, ISaga
{
    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<TSaga> sagaConfigurator,
        IRegistrationContext context)
    {
        // No retry of our own: Treecast.Hosting configures one on the bus, before any endpoint's filters,
        // so it already sits outside this outbox (each attempt starts with an empty outbox). A second retry here
        // would multiply the attempts before a message reaches the error queue.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
