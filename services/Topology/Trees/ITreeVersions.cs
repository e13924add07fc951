using Treecast.Contracts;

namespace Treecast.Topology.Trees;

/// <summary>Tree versions and the latest tree built. Asynchronous so a persistent store can keep versions rising across restarts.</summary>
public interface ITreeVersions
{
    /// <summary>A version greater than every one handed out before (rising, not necessarily without gaps).</summary>
    Task<long> NextVersionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="NextVersionAsync"/>, and greater than <paramref name="floor"/> too: a tree that replaces one
    /// of version <paramref name="floor"/> is newer than it even when that version came from before a restart of
    /// an in-memory store.
    /// </summary>
    Task<long> NextVersionAboveAsync(long floor, CancellationToken cancellationToken);

    Task RecordAsync(VmmTree tree, CancellationToken cancellationToken);

    /// <summary>The recorded tree with the highest version, or null before the first tree.</summary>
    Task<VmmTree?> LatestAsync(CancellationToken cancellationToken);
}
