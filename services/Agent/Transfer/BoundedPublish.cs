namespace Treecast.Agent.Transfer;

/// <summary>
/// Waits for one publish at most a bounded time (a heartbeat; an event the operation needs, which is then published
/// again). A publish that started as the broker went away can wait for a publisher confirm that never comes
/// (RabbitMQ.Client 7.2, which MassTransit 8.5 uses: rabbitmq/rabbitmq-dotnet-client#1930); awaited without a bound it
/// stops the loop that sends the next one. Seen in CI: after a broker restart an agent went on consuming commands on its
/// new connection, yet topology never heard its heartbeat again and judged it lost. The publish itself is left to
/// finish or fail on its own, not cancelled at the bound (cancelling a publish that waits for its confirm slot has
/// corrupted that client's confirm tracking before, #1900): only the wait ends, and the next tick (or attempt)
/// publishes again.
/// </summary>
public static class BoundedPublish
{
    /// <summary>How long a heartbeat may take to publish: three intervals, and never under 2 s on a busy machine.</summary>
    public static TimeSpan LimitFor(TimeSpan interval) => TimeSpan.FromTicks(Math.Max(interval.Ticks * 3, TimeSpan.FromSeconds(2).Ticks));

    /// <summary>
    /// Waits for <paramref name="published"/> until <paramref name="limit"/> passes or <paramref name="stopping"/> is
    /// cancelled: true when it completed, false when given up on. Its failure within the limit is thrown to the caller to
    /// report; one that arrives after the limit is observed and dropped.
    /// </summary>
    public static async Task<bool> WithinAsync(Task published, TimeSpan limit, TimeProvider timeProvider, CancellationToken stopping)
    {
        try
        {
            await published.WaitAsync(limit, timeProvider, stopping);
            return true;
        }
        catch (TimeoutException) when (!published.IsCompleted)
        {
            _ = published.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return false;
        }
    }
}
