using MassTransit;

namespace Treecast.Standalone;

/// <summary>
/// Counts, over the whole bus, the messages a consumer failed on for good: after every retry, they went to an
/// <c>_error</c> queue (the retry filter holds back the faults of attempts it retries). A run in which a message
/// faulted lost part of the protocol, whatever its outcome says.
/// </summary>
public sealed class MessageFaults : IReceiveObserver
{
    private int _faulted;

    public int Faulted => Volatile.Read(ref _faulted);

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class
    {
        Interlocked.Increment(ref _faulted);
        return Task.CompletedTask;
    }

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        Interlocked.Increment(ref _faulted);
        return Task.CompletedTask;
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;
}
