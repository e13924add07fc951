using MassTransit;
using Treecast.Persistence.Tests.Support;

namespace Treecast.Persistence.Tests.Sagas;

/// <summary>The repository contract against MassTransit's in-memory store, the embedded default: always runs.</summary>
public sealed class InMemorySagaRepositorySpecs : SagaRepositoryContract
{
    protected override void UseRepository(ISagaRegistrationConfigurator<CounterSaga> saga) => saga.InMemoryRepository();
}
