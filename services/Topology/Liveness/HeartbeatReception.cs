using MassTransit;
using Treecast.Contracts;

namespace Treecast.Topology.Liveness;

/// <summary>
/// Whether the topology queue is receiving, and since when (the liveness monitor adds <c>Topology:ReconnectGrace</c>). Silence only means a VMM is gone while heartbeats could
/// reach us: during a broker outage, or before this service (re)started, every VMM is silent through no fault of
/// its own, and declaring them lost would fail every running operation at once.
/// </summary>
public sealed class HeartbeatReception(TimeProvider clock, ILogger<HeartbeatReception> logger) : IReceiveEndpointObserver
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _receivingSince = DateTimeOffset.MinValue;

    /// <summary>Since when heartbeats can have arrived without a break; null while the queue is not receiving.</summary>
    public DateTimeOffset? ReceivingSince
    {
        get
        {
            lock (_gate)
            {
                return _receivingSince;
            }
        }
    }

    public Task Ready(ReceiveEndpointReady ready) => Set(ready.InputAddress, clock.GetUtcNow());

    // A stop is the service shutting down: nothing to tell an operator.
    public Task Stopping(ReceiveEndpointStopping stopping) => Set(stopping.InputAddress, null, quietly: true);

    public Task Completed(ReceiveEndpointCompleted completed) => Set(completed.InputAddress, null, quietly: true);

    public Task Faulted(ReceiveEndpointFaulted faulted) => Set(faulted.InputAddress, null);

    private Task Set(Uri inputAddress, DateTimeOffset? since, bool quietly = false)
    {
        if (inputAddress.AbsolutePath.EndsWith("/" + Addresses.TopologyQueue, StringComparison.Ordinal))
        {
            bool wasReceiving;
            lock (_gate)
            {
                wasReceiving = _receivingSince is not null;
                _receivingSince = since;
            }

            // One line per change: a broker outage faults the endpoint at every reconnect attempt.
            if (since is null && wasReceiving && !quietly)
            {
                logger.LogWarning("Topology queue stopped receiving: no VMM is judged lost until it receives again");
            }
            else if (since is not null)
            {
                logger.LogInformation("Topology queue receiving since {ReceivingSince:O}: VMMs are judged lost from then plus the reconnect grace", since);
            }
        }

        return Task.CompletedTask;
    }
}
