namespace Treecast.Topology.Registry;

/// <summary>What one heartbeat changed in the registry.</summary>
public enum HeartbeatOutcome
{
    /// <summary>A known, live VMM at the same endpoint and location: nothing for others to hear about.</summary>
    Refreshed,

    /// <summary>The first heartbeat ever seen from this VMM.</summary>
    Registered,

    /// <summary>A VMM that had been marked lost is alive again.</summary>
    Returned,

    /// <summary>A live VMM now reports another gRPC endpoint or network location (a restart elsewhere).</summary>
    Moved,
}
