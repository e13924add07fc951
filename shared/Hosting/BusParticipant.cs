using MassTransit;

namespace Treecast.Hosting;

/// <summary>
/// What one service contributes to the process's single bus: consumers and sagas it registers, and
/// receive endpoints it configures by name. The standalone host collects the participants of all four
/// services into one bus; a service process collects just its own.
/// </summary>
public sealed record BusParticipant(
    string Name,
    Action<IBusRegistrationConfigurator> Register,
    Action<IBusRegistrationContext, IBusFactoryConfigurator>? ConfigureEndpoints = null);
