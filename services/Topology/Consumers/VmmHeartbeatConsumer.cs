using MassTransit;
using Treecast.Contracts;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Consumers;

/// <summary>Keeps the registry current from agent heartbeats, and announces VMMs that join, return or move.</summary>
public sealed class VmmHeartbeatConsumer(
    IVmmRegistry registry,
    TimeProvider timeProvider,
    ILogger<VmmHeartbeatConsumer> logger) : IConsumer<VmmHeartbeat>
{
    public async Task Consume(ConsumeContext<VmmHeartbeat> context)
    {
        var heartbeat = context.Message;
        if (string.IsNullOrWhiteSpace(heartbeat.VmmId))
        {
            // Thrown, not dropped: the message ends in the error queue where an operator can see which agent sent it.
            throw new ArgumentException(
                $"A heartbeat from gRPC endpoint '{heartbeat.GrpcEndpoint}' at location '{heartbeat.Location}' has no VmmId. "
                + "Set the agent's VMM id in its configuration so it can be placed in trees.",
                nameof(context));
        }

        // Receipt time, not the agent's SentAt: liveness must not depend on the agents' clocks agreeing with ours.
        var outcome = await registry.RecordHeartbeatAsync(heartbeat, timeProvider.GetUtcNow(), context.CancellationToken);
        if (outcome == HeartbeatOutcome.Refreshed)
        {
            return;
        }

        logger.LogInformation(
            "VMM {VmmId} {Outcome} at {Location} with {VmCount} VMs, gRPC endpoint {GrpcEndpoint}",
            heartbeat.VmmId,
            outcome,
            heartbeat.Location,
            heartbeat.VmIds?.Count ?? 0,
            heartbeat.GrpcEndpoint);
        await context.Publish(new VmmRegistered(heartbeat.VmmId, heartbeat.Location ?? string.Empty, heartbeat.GrpcEndpoint));
    }
}
