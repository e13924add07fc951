namespace Treecast.Topology;

/// <summary>Bound from the <c>Topology</c> configuration section (environment: <c>Topology__DefaultFanOut</c>, ...).</summary>
public sealed class TopologyOptions
{
    public const string Section = "Topology";

    /// <summary>A VMM is lost once its latest heartbeat is older than this many of its own heartbeat intervals.</summary>
    public int MissedHeartbeatsBeforeLost { get; set; } = 3;

    /// <summary>
    /// After this service starts, or its queue receives again after a broker outage, how long every VMM gets to be
    /// heard before its silence counts: each agent reconnects to the broker on its own schedule (MassTransit backs off
    /// up to about 10 s), and an outage of the broker is nobody's loss.
    /// </summary>
    public TimeSpan ReconnectGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the liveness monitor looks for VMMs that stopped sending heartbeats.</summary>
    public TimeSpan LivenessCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The fan-out used when a tree request leaves it unset (zero); 0 (the default) picks it per operation from the
    /// root's image size and the number of receivers (<see cref="Trees.FanOutChoice"/>).
    /// </summary>
    public int DefaultFanOut { get; set; }

    /// <summary>
    /// The stripe trees built when a tree request leaves them unset (zero). One until the agents' data path sends each
    /// stripe down its own tree: today they carry every chunk down stripe 0's tree.
    /// </summary>
    public int DefaultStripes { get; set; } = 1;
}
