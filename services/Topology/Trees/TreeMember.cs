using Treecast.Topology.Registry;

namespace Treecast.Topology.Trees;

/// <summary>A live VMM being placed, with its location split into levels.</summary>
internal sealed record TreeMember(RegisteredVmm Vmm, string[] Path)
{
    public string Id => Vmm.VmmId;
}
