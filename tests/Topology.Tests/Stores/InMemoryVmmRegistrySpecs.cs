using Treecast.Topology.Registry;

namespace Treecast.Topology.Tests.Stores;

/// <summary>The registry contract against the in-memory store, the embedded default: always runs.</summary>
public sealed class InMemoryVmmRegistrySpecs : VmmRegistryContract
{
    protected override IVmmRegistry CreateRegistry() => new InMemoryVmmRegistry();
}
