using Treecast.Topology.Registry;

namespace Treecast.Topology.Tests.Trees;

/// <summary>Hand-written fleets for examples whose expected tree is written out in the test.</summary>
internal static class Fleet
{
    public static RegisteredVmm Vmm(string id, string location, bool lost = false) =>
        new(id, $"http://{id}:5001", location, [], GeneratedFleet.SeenAt, TimeSpan.FromSeconds(1), lost);
}
