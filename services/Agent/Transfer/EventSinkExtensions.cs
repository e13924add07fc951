using Microsoft.Extensions.Logging;

namespace Treecast.Agent.Transfer;

public static class EventSinkExtensions
{
    /// <summary>
    /// Publishes an event the transfer raised in the background; a failure to publish is logged, not thrown, since the
    /// stream that raised it must go on (the bus retries, and the saga's step timers cover a message that never arrives).
    /// </summary>
    public static async Task PublishQuietlyAsync<T>(this IEventSink events, T message, ILogger logger, string vmmId, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            await events.PublishAsync(message, cancellationToken);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not publish {MessageType} from {VmmId}", typeof(T).Name, vmmId);
        }
    }
}
