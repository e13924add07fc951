using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests.Stores;

/// <summary>The tree version contract against the in-memory store, the embedded default: always runs.</summary>
public sealed class InMemoryTreeVersionsSpecs : TreeVersionsContract
{
    protected override ITreeVersions CreateVersions() => new InMemoryTreeVersions();
}
