using System.Threading.Channels;

namespace Treecast.Policy.Tests.Support;

/// <summary>Messages a test's own consumer received on a real bus, to wait for.</summary>
public sealed class MessageRecorder
{
    private readonly Channel<object> _received = Channel.CreateUnbounded<object>();
    private readonly List<object> _seen = [];

    public void Record(object message) => _received.Writer.TryWrite(message);

    /// <summary>The messages of type <typeparamref name="T"/> received so far. Call from the test's thread only, as <see cref="WaitFor{T}"/>.</summary>
    public IReadOnlyList<T> Received<T>()
    {
        while (_received.Reader.TryRead(out var message))
        {
            _seen.Add(message);
        }

        return _seen.OfType<T>().ToList();
    }

    public async Task<T> WaitFor<T>(Func<T, bool> predicate, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var match = _seen.OfType<T>().FirstOrDefault(predicate);
                if (match is not null)
                {
                    return match;
                }

                _seen.Add(await _received.Reader.ReadAsync(cancellation.Token));
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no matching {typeof(T).Name} within {timeout}; received: {string.Join(", ", _seen)}");
        }
    }
}
