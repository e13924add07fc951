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
        // The retry sits outside the outbox so each attempt starts with an empty outbox. Treecast.Hosting
        // already retries on every endpoint; this one keeps the order right where the sagas are hosted alone.
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 200, 500, 1000));
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}
