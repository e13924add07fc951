using Treecast.Agent.Transfer;

namespace Treecast.Agent.Tests.Support;

/// <summary>Keeps every event the engine publishes so tests can wait for the ones they expect.</summary>
public sealed class RecordingEventSink : IEventSink
{
    private readonly List<object> _events = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task PublishAsync<T>(T message, CancellationToken cancellationToken)
        where T : class
    {
        TaskCompletionSource changed;
        lock (_events)
        {
            _events.Add(message);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.SetResult();
        return Task.CompletedTask;
    }

    public IReadOnlyList<T> All<T>()
    {
        lock (_events)
        {
            return _events.OfType<T>().ToList();
        }
    }

    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            Task changed;
            lock (_events)
            {
                var found = _events.OfType<T>().FirstOrDefault(match);
                if (found is not null)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No {typeof(T).Name} matched; published so far: {string.Join(", ", All<object>())}");
            }
        }
    }
}
