using Treecast.Contracts;

namespace Treecast.Topology.Registry;

/// <summary>The registry of the embedded setup: thread-safe, lost on restart (agents re-register within one heartbeat).</summary>
public sealed class InMemoryVmmRegistry : IVmmRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RegisteredVmm> _vmms = new(StringComparer.Ordinal);

    public Task<HeartbeatOutcome> RecordHeartbeatAsync(VmmHeartbeat heartbeat, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        var entry = RegisteredVmm.FromHeartbeat(heartbeat, receivedAt);
        lock (_gate)
        {
            _vmms.TryGetValue(entry.VmmId, out var previous);
            _vmms[entry.VmmId] = entry;
            return Task.FromResult(entry.OutcomeOver(previous));
        }
    }

    public Task<IReadOnlyList<RegisteredVmm>> ListAsync(CancellationToken cancellationToken) => List(includeLost: true);

    public Task<IReadOnlyList<RegisteredVmm>> ListLiveAsync(CancellationToken cancellationToken) => List(includeLost: false);

    public Task<RegisteredVmm?> FindAsync(string vmmId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_vmms.GetValueOrDefault(vmmId));
        }
    }

    public Task<RegisteredVmm?> MarkLostAsync(string vmmId, DateTimeOffset lastSeenAt, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_vmms.TryGetValue(vmmId, out var current) || current.IsLost || current.LastSeenAt != lastSeenAt)
            {
                return Task.FromResult<RegisteredVmm?>(null);
            }

            var lost = current with { IsLost = true };
            _vmms[vmmId] = lost;
            return Task.FromResult<RegisteredVmm?>(lost);
        }
    }

    private Task<IReadOnlyList<RegisteredVmm>> List(bool includeLost)
    {
        lock (_gate)
        {
            IReadOnlyList<RegisteredVmm> result = _vmms.Values
                .Where(v => includeLost || !v.IsLost)
                .OrderBy(v => v.VmmId, StringComparer.Ordinal)
                .ToList();
            return Task.FromResult(result);
        }
    }
}
