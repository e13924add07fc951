using System.Collections.Concurrent;
using MassTransit;

namespace Treecast.Policy.Tests.Support;

/// <summary>
/// Every attempt to consume each message (by message id and receiving endpoint), retries included:
/// <see cref="ConsumeAttemptFilter{T}"/> runs inside the bus-wide retry, so a retried message is counted once per
/// attempt. Tells "faulted at once" from "faulted after the retries" without timing the fault.
/// </summary>
public sealed class ConsumeAttempts
{
    private readonly ConcurrentDictionary<(Type Type, Guid? MessageId, Uri? Endpoint), int> _attempts = new();

    /// <summary>
    /// The most attempts any endpoint made at the one <typeparamref name="T"/> consumed so far (1: never retried); fails
    /// when no or several such messages were consumed.
    /// </summary>
    public int OfSingle<T>()
    {
        var messages = _attempts.Where(a => a.Key.Type == typeof(T)).GroupBy(a => a.Key.MessageId).ToList();
        return messages.Count == 1
            ? messages[0].Max(a => a.Value)
            : throw new InvalidOperationException($"{messages.Count} {typeof(T).Name} messages were consumed, one expected");
    }

    internal void Add(Type messageType, Guid? messageId, Uri? endpoint) =>
        _attempts.AddOrUpdate((messageType, messageId, endpoint), 1, (_, n) => n + 1);
}

public sealed class ConsumeAttemptFilter<T>(ConsumeAttempts attempts) : IFilter<ConsumeContext<T>>
    where T : class
{
    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        attempts.Add(typeof(T), context.MessageId, context.ReceiveContext.InputAddress);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("consumeAttempts");
}
