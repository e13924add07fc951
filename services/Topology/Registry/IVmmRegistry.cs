using Treecast.Contracts;

namespace Treecast.Topology.Registry;

/// <summary>The VMMs known from agent heartbeats. Asynchronous so a database-backed store can replace the in-memory one.</summary>
public interface IVmmRegistry
{
    /// <summary>Records a heartbeat received at <paramref name="receivedAt"/>; a lost VMM becomes live again.</summary>
    Task<HeartbeatOutcome> RecordHeartbeatAsync(VmmHeartbeat heartbeat, DateTimeOffset receivedAt, CancellationToken cancellationToken);

    /// <summary>Every VMM ever seen, lost ones included, ordered by id.</summary>
    Task<IReadOnlyList<RegisteredVmm>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The VMMs not marked lost, ordered by id.</summary>
    Task<IReadOnlyList<RegisteredVmm>> ListLiveAsync(CancellationToken cancellationToken);

    Task<RegisteredVmm?> FindAsync(string vmmId, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a VMM lost, but only if its latest heartbeat is still the one seen at <paramref name="lastSeenAt"/>,
    /// so a heartbeat that arrives during a liveness check wins. Returns the lost entry, or null when nothing changed.
    /// </summary>
    Task<RegisteredVmm?> MarkLostAsync(string vmmId, DateTimeOffset lastSeenAt, CancellationToken cancellationToken);
}
