using Treecast.Contracts;

namespace Treecast.Bench.Trees;

/// <summary>What a built tree looks like, measured from its nodes alone (not from the builder's own code).</summary>
public sealed record TreeMeasurement(int Nodes, int Depth, int MaxChildren, int[] CrossLinks)
{
    public static TreeMeasurement Of(VmmTree tree)
    {
        var byId = tree.Nodes.ToDictionary(n => n.VmmId, StringComparer.Ordinal);
        var depths = new Dictionary<string, int>(StringComparer.Ordinal);
        var children = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in tree.Nodes)
        {
            // The builder lists parents before children, so one pass gives every depth.
            depths[node.VmmId] = node.ParentVmmId is null ? 0 : depths[node.ParentVmmId] + 1;
            if (node.ParentVmmId is not null)
            {
                children[node.ParentVmmId] = children.GetValueOrDefault(node.ParentVmmId) + 1;
            }
        }

        var crossLinks = new int[3];
        for (var levels = 1; levels <= 3; levels++)
        {
            crossLinks[levels - 1] = tree.Nodes.Count(n =>
                n.ParentVmmId is not null && GroupOf(byId[n.ParentVmmId].Location, levels) != GroupOf(n.Location, levels));
        }

        return new TreeMeasurement(tree.Nodes.Count, depths.Values.Max(), children.Count == 0 ? 0 : children.Values.Max(), crossLinks);
    }

    private static string GroupOf(string location, int levels) => string.Join('/', location.Split('/').Take(levels));
}
