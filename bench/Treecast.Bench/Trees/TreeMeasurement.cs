using Treecast.Contracts;

namespace Treecast.Bench.Trees;

/// <summary>What a built tree looks like, measured from its nodes alone (not from the builder's own code).</summary>
/// <param name="MaxInteriorIn">The most stripe trees any VMM but the root has children in (1 when every host relays one stripe).</param>
public sealed record TreeMeasurement(int Nodes, int Depth, int MaxChildren, int[] CrossLinks, int MaxInteriorIn = 1)
{
    /// <summary>Every stripe tree measured, worst of each figure.</summary>
    public static TreeMeasurement Of(VmmTree tree)
    {
        var stripes = Enumerable.Range(0, tree.Stripes).Select(s => Of(tree, s)).ToList();
        var interiorIn = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var stripe = 0; stripe < tree.Stripes; stripe++)
        {
            foreach (var parent in tree.Nodes.Select(n => n.ParentIn(stripe)).OfType<string>().Where(p => p != tree.RootVmmId).Distinct())
            {
                interiorIn[parent] = interiorIn.GetValueOrDefault(parent) + 1;
            }
        }

        return new TreeMeasurement(
            tree.Nodes.Count,
            stripes.Max(s => s.Depth),
            stripes.Max(s => s.MaxChildren),
            [.. Enumerable.Range(0, 3).Select(l => stripes.Max(s => s.CrossLinks[l]))],
            interiorIn.Count == 0 ? 0 : interiorIn.Values.Max());
    }

    private static TreeMeasurement Of(VmmTree tree, int stripe)
    {
        var byId = tree.Nodes.ToDictionary(n => n.VmmId, StringComparer.Ordinal);
        var depths = new Dictionary<string, int>(StringComparer.Ordinal);
        var children = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in tree.Nodes)
        {
            if (node.ParentIn(stripe) is { } parent)
            {
                children[parent] = children.GetValueOrDefault(parent) + 1;
            }
        }

        foreach (var node in tree.Nodes)
        {
            DepthOf(node.VmmId, byId, depths, stripe);
        }

        var crossLinks = new int[3];
        for (var levels = 1; levels <= 3; levels++)
        {
            crossLinks[levels - 1] = tree.Nodes.Count(n =>
                n.ParentIn(stripe) is { } parent && GroupOf(byId[parent].Location, levels) != GroupOf(n.Location, levels));
        }

        return new TreeMeasurement(tree.Nodes.Count, depths.Values.Max(), children.Count == 0 ? 0 : children.Values.Max(), crossLinks);
    }

    // Stripe trees other than 0 do not list parents before children: depths are found by walking up, remembered on the way.
    private static int DepthOf(string vmmId, Dictionary<string, TreeNode> byId, Dictionary<string, int> depths, int stripe)
    {
        var path = new Stack<string>();
        var depth = 0;
        for (var id = vmmId; ; id = byId[id].ParentIn(stripe)!)
        {
            if (depths.TryGetValue(id, out var known))
            {
                depth = known;
                break;
            }

            if (byId[id].ParentIn(stripe) is null)
            {
                depths[id] = 0;
                break;
            }

            path.Push(id);
        }

        while (path.TryPop(out var id))
        {
            depths[id] = ++depth;
        }

        return depth;
    }

    private static string GroupOf(string location, int levels) => string.Join('/', location.Split('/').Take(levels));
}
