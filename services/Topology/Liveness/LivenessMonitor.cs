using MassTransit;
using Microsoft.Extensions.Options;
using Treecast.Contracts;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Liveness;

/// <summary>Marks VMMs lost when their heartbeats stop, and tells the bus once per loss.</summary>
public sealed class LivenessMonitor(
    IVmmRegistry registry,
    HeartbeatReception reception,
    IBus bus,
    TimeProvider timeProvider,
    IOptions<TopologyOptions> options,
    ILogger<LivenessMonitor> logger) : BackgroundService
{
    private readonly TopologyOptions _options = options.Value;

    /// <summary>One liveness pass; the background loop calls it every <see cref="TopologyOptions.LivenessCheckInterval"/>.</summary>
    /// <returns>The VMMs this pass marked lost.</returns>
    public async Task<IReadOnlyList<RegisteredVmm>> CheckAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var lost = new List<RegisteredVmm>();
        if (reception.ReceivingSince is not { } receivingSince)
        {
            return lost; // The broker is out of reach: every VMM is silent, none is judged.
        }

        foreach (var vmm in await registry.ListLiveAsync(cancellationToken))
        {
            // Silence counts from when every agent could be heard again: a broker outage or a restart of this service
            // is not the VMM's silence.
            var heardFrom = receivingSince == DateTimeOffset.MinValue ? receivingSince : receivingSince + _options.ReconnectGrace;
            var silence = now - (vmm.LastSeenAt > heardFrom ? vmm.LastSeenAt : heardFrom);
            if (silence <= LostAfter(vmm))
            {
                continue;
            }

            // Compare-and-set on the heartbeat we judged: a heartbeat arriving meanwhile keeps the VMM live,
            // and a VMM already marked lost is not announced twice.
            var marked = await registry.MarkLostAsync(vmm.VmmId, vmm.LastSeenAt, cancellationToken);
            if (marked is null)
            {
                continue;
            }

            logger.LogWarning(
                "Lost VMM {VmmId} at {Location}: no heartbeat for {Silence} (interval {Interval})",
                vmm.VmmId,
                vmm.Location,
                silence,
                vmm.Interval);
            await bus.Publish(new VmmLost(vmm.VmmId, vmm.LastSeenAt, now), cancellationToken);
            lost.Add(marked);
        }

        return lost;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.LivenessCheckInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CheckAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A failed pass (bus briefly down) must not end liveness checking for the life of the process.
                    logger.LogError(ex, "Liveness check failed; retrying in {Interval}", _options.LivenessCheckInterval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
    }

    private TimeSpan LostAfter(RegisteredVmm vmm)
    {
        // An agent that announces no usable interval is judged by the check interval rather than never lost.
        var interval = vmm.Interval > TimeSpan.Zero ? vmm.Interval : _options.LivenessCheckInterval;
        return interval * _options.MissedHeartbeatsBeforeLost;
    }
}
