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

    public static int CrossLinks(VmmTree tree, int levels, int stripe = 0)
    {
        var byId = tree.Nodes.ToDictionary(n => n.VmmId);
        return tree.Nodes.Count(n => n.ParentIn(stripe) is { } parent
            && Group(byId[parent].Location, levels) != Group(n.Location, levels));
    }

    public static int Groups(IEnumerable<string> locations, int levels) =>
        locations.Select(l => Group(l, levels)).Distinct().Count();

    public static int DepthOf(VmmTree tree, string vmmId, int stripe = 0)
    {
        var byId = tree.Nodes.ToDictionary(n => n.VmmId);
        var depth = 0;
        for (var node = byId[vmmId]; node.ParentIn(stripe) is { } parent; node = byId[parent])
        {
            depth++;
            Assert.True(depth <= tree.Nodes.Count, $"VMM {vmmId} sits on a cycle");
        }

        return depth;
    }

    /// <summary>
    /// The properties every tree the topology service builds must have, whatever it was built for: one root listed
    /// first, every VMM once, parents listed before their children, no VMM with more children than the fan-out,
    /// and proximity: each site, pod and rack one connected subtree (groups − 1 links between groups, per level).
    /// </summary>
    public static void AssertWellFormed(VmmTree tree, int fanOut)
    {
        Assert.Equal(tree.RootVmmId, tree.Nodes[0].VmmId);
        Assert.Single(tree.Nodes, n => n.ParentVmmId is null);
        Assert.Equal(tree.Nodes.Count, tree.Nodes.Select(n => n.VmmId).Distinct().Count());
        var seen = new HashSet<string>();
        foreach (var node in tree.Nodes)
        {
            Assert.True(node.ParentVmmId is null || seen.Contains(node.ParentVmmId), $"{node.VmmId} is listed before its parent");
            seen.Add(node.VmmId);
            Assert.InRange(tree.ChildrenOf(node.VmmId).Count(), 0, fanOut);
            DepthOf(tree, node.VmmId);
        }

        var locations = tree.Nodes.Select(n => n.Location).ToList();
        for (var levels = 1; levels <= 3; levels++)
        {
            Assert.True(
                Groups(locations, levels) - 1 == CrossLinks(tree, levels),
                $"{locations.Count} VMMs, fan-out {fanOut}: {Groups(locations, levels)} groups at {levels} levels "
                + $"but {CrossLinks(tree, levels)} links between them");
        }
    }
}
