using System.Collections.Concurrent;
using MassTransit.Saga;

namespace Treecast.Persistence.Tests.Support;

/// <summary>
/// Test code to run inside a real message's saga repository context. A repository context needs a real
/// ConsumeContext, which only a bus makes: a test registers a script here and publishes a
/// <see cref="RepositoryProbe"/>, and <see cref="RepositoryProbeConsumer"/> runs it against the store under test.
/// </summary>
public sealed class RepositoryScripts
{
    private readonly ConcurrentDictionary<Guid, (Func<SagaRepositoryContext<CounterSaga, RepositoryProbe>, Task> Script, TaskCompletionSource Done)> _scripts = new();

    public (Guid Id, Task Done) Add(Func<SagaRepositoryContext<CounterSaga, RepositoryProbe>, Task> script)
    {
        var id = Guid.NewGuid();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _scripts[id] = (script, done);
        return (id, done.Task);
    }

    public async Task RunAsync(Guid id, Func<Func<SagaRepositoryContext<CounterSaga, RepositoryProbe>, Task>, Task> run)
    {
        if (!_scripts.TryRemove(id, out var entry))
        {
            return;
        }

        try
        {
            await run(entry.Script);
            entry.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            // The test, not the bus, reports the failure: no retry, no fault message.
            entry.Done.TrySetException(ex);
        }
    }
}
