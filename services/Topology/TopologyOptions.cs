namespace Treecast.Topology;

/// <summary>Bound from the <c>Topology</c> configuration section (environment: <c>Topology__DefaultFanOut</c>, ...).</summary>
public sealed class TopologyOptions
{
    public const string Section = "Topology";

    /// <summary>A VMM is lost once its latest heartbeat is older than this many of its own heartbeat intervals.</summary>
    public int MissedHeartbeatsBeforeLost { get; set; } = 3;

    /// <summary>How often the liveness monitor looks for VMMs that stopped sending heartbeats.</summary>
    public TimeSpan LivenessCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The fan-out used when a tree request leaves it unset (zero).</summary>
    public int DefaultFanOut { get; set; } = 2;
}
