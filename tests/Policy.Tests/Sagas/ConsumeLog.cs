using System.Collections.Concurrent;
using MassTransit;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// Which receive endpoint consumed which message. The harness's own consumed list keeps one entry per
/// message id, so it cannot tell that both sagas consumed a published <c>TimerFired</c>.
/// </summary>
public sealed class ConsumeLog : IConsumeObserver
{
    private readonly ConcurrentQueue<(Guid? MessageId, string Queue)> _consumed = new();

    public bool Contains(Guid messageId, string queue) =>
        _consumed.Any(c => c.MessageId == messageId && c.Queue == queue);

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class =>
        Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        Record(context);
        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class
    {
        Record(context);
        return Task.CompletedTask;
    }

    private void Record(ConsumeContext context) =>
        _consumed.Enqueue((context.MessageId, context.ReceiveContext.InputAddress.AbsolutePath.Trim('/')));
}
