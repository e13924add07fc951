using Treecast.Contracts;

namespace Treecast.Topology.Tests.Trees;

/// <summary>Measures a built tree independently of the builder's own code.</summary>
internal static class TreeShape
{
    /// <summary>The group key of a location at <paramref name="levels"/> levels; a missing level is its own group.</summary>
    public static string Group(string location, int levels)
    {
        var parts = location.Trim('/').Split('/');
        return string.Join("|", Enumerable.Range(0, levels).Select(i => i < parts.Length ? parts[i].Trim() : "<none>"));
    }

    public static int CrossLinks(VmmTree tree, int levels)
    {
        var byId = tree.Nodes.ToDictionary(n => n.VmmId);
        return tree.Nodes.Count(n => n.ParentVmmId is not null
            && Group(byId[n.ParentVmmId].Location, levels) != Group(n.Location, levels));
    }

    public static int Groups(IEnumerable<string> locations, int levels) =>
        locations.Select(l => Group(l, levels)).Distinct().Count();

    public static int DepthOf(VmmTree tree, string vmmId)
    {
        var byId = tree.Nodes.ToDictionary(n => n.VmmId);
        var depth = 0;
        for (var node = byId[vmmId]; node.ParentVmmId is not null; node = byId[node.ParentVmmId])
        {
            depth++;
            Assert.True(depth <= tree.Nodes.Count, $"VMM {vmmId} sits on a cycle");
        }

        return depth;
    }
}
