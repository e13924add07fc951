using Treecast.Contracts;

namespace Treecast.TestSupport;

/// <summary>
/// One VMM's slice of a tree, worked out the plain way (a pass over the tree per VMM): the reference the tests hold
/// <see cref="TreeSlices"/> (one pass for every VMM, what the root's agent sends) to, and the slice a test hands an agent.
/// </summary>
public static class TreeSliceReference
{
    /// <summary>
    /// The same version, root, fan-out and stripes, and as nodes the VMM itself (with its parent in every stripe) and its
    /// children in every stripe; no nodes for a VMM the tree leaves out.
    /// </summary>
    public static VmmTree SliceFor(this VmmTree tree, string vmmId)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return tree.Find(vmmId) is { } own
            ? tree with { Nodes = [own, .. tree.Nodes.Where(n => n.VmmId != vmmId && IsChildOf(tree, n, vmmId))] }
            : tree with { Nodes = [] };
    }

    private static bool IsChildOf(VmmTree tree, TreeNode node, string vmmId) =>
        Enumerable.Range(0, tree.Stripes).Any(stripe => node.ParentIn(stripe) == vmmId);
}
