using Microsoft.Extensions.Logging;

namespace Treecast.Agent.Transfer;

public static class EventSinkExtensions
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(10);

    /// <summary>How long one attempt may wait for the bus to take an event before it is published again (<see cref="BoundedPublish"/>).</summary>
    public static readonly TimeSpan DefaultPublishLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Publishes an event the operation needs (a verified copy, a failure, a resumed receive) and keeps trying until the
    /// bus takes it or <paramref name="cancellationToken"/> ends: a publish caught by a broker outage (the connection
    /// closing under it) would otherwise be lost, and the operation would wait for it until its step timed out. An
    /// attempt the bus does not answer within <paramref name="publishLimit"/> (a publish caught as the broker went away
    /// can wait for a confirm that never comes) counts as failed: the event is published again, and its consumers take
    /// a repeat as they take a redelivery. Never throws: the stream that raised it must go on.
    /// </summary>
    public static async Task PublishQuietlyAsync<T>(this IEventSink events, T message, ILogger logger, string vmmId, CancellationToken cancellationToken, TimeSpan? publishLimit = null)
        where T : class
    {
        var limit = publishLimit ?? DefaultPublishLimit;
        var wait = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!await BoundedPublish.WithinAsync(events.PublishAsync(message, cancellationToken), limit, TimeProvider.System, cancellationToken))
                {
                    throw new TimeoutException($"the bus did not take it within {limit}");
                }

                if (attempt > 1)
                {
                    logger.LogInformation("Published {MessageType} from {VmmId} after {Attempts} attempts", typeof(T).Name, vmmId, attempt);
                }

                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Gave up publishing {MessageType} from {VmmId}: the operation or the agent stopped", typeof(T).Name, vmmId);
                return;
            }
            catch (Exception e)
            {
                if (attempt == 1)
                {
                    logger.LogWarning("Could not publish {MessageType} from {VmmId} ({Reason}); trying again until the bus takes it", typeof(T).Name, vmmId, e.Message);
                }
            }

            try
            {
                await Task.Delay(wait, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                logger.LogWarning("Gave up publishing {MessageType} from {VmmId}: the operation or the agent stopped", typeof(T).Name, vmmId);
                return;
            }

            wait = wait * 2 < LongestRetry ? wait * 2 : LongestRetry;
        }
    }

    /// <summary>Publishes a progress report once, if the bus takes it: the next report says more, so none is worth a retry.</summary>
    public static async Task PublishProgressAsync<T>(this IEventSink events, T message, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            await events.PublishAsync(message, cancellationToken);
        }
        catch (Exception)
        {
            // Progress is advisory; the operation moves on verified copies, not on reports.
        }
    }
}
