namespace Treecast.Contracts;

/// <summary>
/// Every member's slice of one tree, in one pass (slicing a member at a time reads the whole tree each time: quadratic
/// at 100,000 VMMs). A slice is what a VMM needs to take part in a transfer: the same version, root, fan-out and stripes,
/// and as nodes the VMM itself (with its parent in every stripe) and its children in every stripe (with the endpoints it
/// pushes to). What an agent reads of a tree (<see cref="VmmTree.Find"/>, <see cref="VmmTree.ParentOf(string, int)"/>,
/// <see cref="VmmTree.ChildrenOf(string, int)"/> for itself) reads the same off its slice.
/// </summary>
public static class TreeSlices
{
    /// <summary>Each member of <paramref name="tree"/> with its slice, in the tree's node order.</summary>
    public static IEnumerable<(string VmmId, VmmTree Slice)> Of(VmmTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var children = new Dictionary<string, List<TreeNode>>(tree.Nodes.Count, StringComparer.Ordinal);
        foreach (var node in tree.Nodes)
        {
            // A child of one parent in several stripes is listed once.
            var parents = new HashSet<string>(StringComparer.Ordinal);
            for (var stripe = 0; stripe < tree.Stripes; stripe++)
            {
                if (node.ParentIn(stripe) is { } parent && parents.Add(parent))
                {
                    if (!children.TryGetValue(parent, out var list))
                    {
                        children[parent] = list = [];
                    }

                    list.Add(node);
                }
            }
        }

        foreach (var node in tree.Nodes)
        {
            var own = children.GetValueOrDefault(node.VmmId) ?? [];
            var nodes = new TreeNode[own.Count + 1];
            nodes[0] = node;
            own.CopyTo(nodes, 1);
            yield return (node.VmmId, tree with { Nodes = nodes });
        }
    }
}
