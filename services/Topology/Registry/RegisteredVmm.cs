using Treecast.Contracts;

namespace Treecast.Topology.Registry;

/// <summary>What the registry knows about one VMM, as of its latest heartbeat.</summary>
/// <param name="LastSeenAt">When the topology service received the latest heartbeat (its own clock, not the agent's).</param>
/// <param name="Interval">The heartbeat interval the agent announced; liveness is judged against it.</param>
/// <param name="Vms">The VMs as the latest heartbeat described them (state, size, digest, MAC), for operators.</param>
/// <param name="IsLost">The VMM missed too many heartbeats; it is kept so a returning VMM is recognised, but placed in no tree.</param>
public sealed record RegisteredVmm(
    string VmmId,
    string GrpcEndpoint,
    string Location,
    IReadOnlyList<string> VmIds,
    DateTimeOffset LastSeenAt,
    TimeSpan Interval,
    bool IsLost = false,
    IReadOnlyList<VmSummary>? Vms = null)
{
    /// <summary>The live entry a heartbeat received at <paramref name="receivedAt"/> makes, whatever the VMM was before.</summary>
    public static RegisteredVmm FromHeartbeat(VmmHeartbeat heartbeat, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        return new RegisteredVmm(
            heartbeat.VmmId,
            heartbeat.GrpcEndpoint,
            heartbeat.Location ?? string.Empty,
            // Copied: the message's list may be a mutable list the sender still holds (in-memory transport).
            heartbeat.VmIds is null ? [] : [.. heartbeat.VmIds],
            receivedAt,
            heartbeat.Interval,
            Vms: heartbeat.Vms is null ? null : [.. heartbeat.Vms]);
    }

    /// <summary>
    /// What this entry changed by replacing <paramref name="previous"/> (null: none). One rule for every registry,
    /// so the events announced do not depend on the store chosen.
    /// </summary>
    public HeartbeatOutcome OutcomeOver(RegisteredVmm? previous) => previous switch
    {
        null => HeartbeatOutcome.Registered,
        { IsLost: true } => HeartbeatOutcome.Returned,
        _ when previous.GrpcEndpoint != GrpcEndpoint || previous.Location != Location => HeartbeatOutcome.Moved,
        _ => HeartbeatOutcome.Refreshed,
    };
}
