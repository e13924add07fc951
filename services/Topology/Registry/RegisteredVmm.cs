namespace Treecast.Topology.Registry;

/// <summary>What the registry knows about one VMM, as of its latest heartbeat.</summary>
/// <param name="LastSeenAt">When the topology service received the latest heartbeat (its own clock, not the agent's).</param>
/// <param name="Interval">The heartbeat interval the agent announced; liveness is judged against it.</param>
/// <param name="IsLost">The VMM missed too many heartbeats; it is kept so a returning VMM is recognised, but placed in no tree.</param>
public sealed record RegisteredVmm(
    string VmmId,
    string GrpcEndpoint,
    string Location,
    IReadOnlyList<string> VmIds,
    DateTimeOffset LastSeenAt,
    TimeSpan Interval,
    bool IsLost = false);
