using MassTransit;

namespace Treecast.Policy.Sagas;

/// <summary>Registers both sagas (broadcast operation, deadline watch) with their repositories.</summary>
public static class SagaRegistration
{
    public static IBusRegistrationConfigurator AddTreecastSagas(this IBusRegistrationConfigurator bus)
    {
        // Filled in by the saga work: AddSagaStateMachine<...>().InMemoryRepository().
        return bus;
    }
}
