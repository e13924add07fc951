using Treecast.Contracts;

namespace Treecast.Topology.Trees;

public sealed class InMemoryTreeVersions : ITreeVersions
{
    private readonly Lock _gate = new();
    private long _version;
    private VmmTree? _latest;

    public Task<long> NextVersionAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Interlocked.Increment(ref _version));

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
