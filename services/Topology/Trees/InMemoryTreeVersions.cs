using Treecast.Contracts;

namespace Treecast.Topology.Trees;

public sealed class InMemoryTreeVersions : ITreeVersions
{
    private readonly Lock _gate = new();
    private long _version;
    private VmmTree? _latest;

    public Task<long> NextVersionAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Interlocked.Increment(ref _version));

    public Task<long> NextVersionAboveAsync(long floor, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _version);
            var next = Math.Max(current, floor) + 1;
            if (Interlocked.CompareExchange(ref _version, next, current) == current)
            {
                return Task.FromResult(next);
            }
        }
    }

    public Task RecordAsync(VmmTree tree, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tree);
        lock (_gate)
        {
            // Trees of concurrent requests may be recorded out of order; the latest is the highest version.
            if (_latest is null || tree.Version > _latest.Version)
            {
                _latest = tree;
            }
        }

        return Task.CompletedTask;
    }

    public Task<VmmTree?> LatestAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_latest);
        }
    }
}
