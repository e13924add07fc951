using MassTransit;
using MassTransit.Saga;

namespace Treecast.Persistence.Tests.Support;

/// <summary>Runs a test's script in the repository context that the store under test creates for this message.</summary>
public sealed class RepositoryProbeConsumer(ISagaRepositoryContextFactory<CounterSaga> repository, RepositoryScripts scripts)
    : IConsumer<RepositoryProbe>
{
    public Task Consume(ConsumeContext<RepositoryProbe> context) =>
        scripts.RunAsync(context.Message.ScriptId, script =>
            repository.Send(context, Pipe.ExecuteAsync<SagaRepositoryContext<CounterSaga, RepositoryProbe>>(script)));
}
