namespace Treecast.Topology.Trees;

/// <summary>
/// Places members into one tree, cluster by cluster (site, pod, rack, ...), each cluster one connected subtree hung from
/// the shallowest, lightest node of the cluster above with room. The root may be given less room than the others (a
/// stripe tree's root feeds one child, so it sends one stripe's bytes per tree).
/// </summary>
internal sealed class ProximityLayout(int fanOut, int depth, int rootFanOut = int.MaxValue)
{
    public List<Placement> Placed { get; } = [];

    public int RoomOf(Placement placement) => placement.Parent is null ? Math.Min(rootFanOut, fanOut) : fanOut;

    /// <summary>Places a cluster (hosts sharing the first <paramref name="level"/> levels) under <paramref name="parent"/>, head first.</summary>
    /// <returns>The cluster's placements, in placement order.</returns>
    public List<Placement> PlaceCluster(List<TreeMember> members, int level, TreeMember head, Placement? parent)
    {
        if (level >= depth)
        {
            return PlaceRack(members, head, parent);
        }

        var groups = members
            .GroupBy(m => ProximityPath.Level(m.Path, level), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var headKey = ProximityPath.Level(head.Path, level);
        var placed = PlaceCluster(groups[headKey], level + 1, head, parent);

        // Largest groups first, each under the lightest candidate: the subtrees under one parent come out as even as the
        // clusters' sizes allow (a lone rack of five beside a lone leaf was the shape this replaced).
        foreach (var (_, group) in groups.Where(g => g.Key != headKey).OrderByDescending(g => g.Value.Count).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            // Only nodes of this cluster are candidates: attaching elsewhere would split the cluster in two. A finite tree
            // has a leaf, so a node with room exists unless the cluster is the root alone with no room left.
            var attach = placed.Where(p => p.Children < RoomOf(p)).MinBy(p => (p.Depth, p.Weight, p.Order))
                ?? placed.MinBy(p => (p.Children, p.Order))!;
            var subHead = group.MinBy(m => m.Id, StringComparer.Ordinal)!;
            placed.AddRange(PlaceCluster(group, level + 1, subHead, attach));
        }

        return placed;
    }

    /// <summary>Places <paramref name="member"/> under <paramref name="parent"/> and counts it in every ancestor's weight.</summary>
    public Placement Place(TreeMember member, Placement? parent)
    {
        var placement = new Placement(member, parent, Placed.Count);
        if (parent is not null)
        {
            parent.Children++;
            for (var up = parent; up is not null; up = up.Parent)
            {
                up.Weight++;
            }
        }

        Placed.Add(placement);
        return placement;
    }

    /// <summary>Hosts at one location: a complete tree in breadth-first order, so the rack is as shallow as the fan-out allows.</summary>
    private List<Placement> PlaceRack(List<TreeMember> members, TreeMember head, Placement? parent)
    {
        var order = members.Where(m => !ReferenceEquals(m, head)).OrderBy(m => m.Id, StringComparer.Ordinal).Prepend(head).ToList();
        var placed = new List<Placement>(order.Count);
        var next = 0;
        for (var i = 0; i < order.Count; i++)
        {
            var up = parent;
            if (i > 0)
            {
                while (next < placed.Count - 1 && placed[next].Children >= RoomOf(placed[next]))
                {
                    next++;
                }

                up = placed[next];
            }

            placed.Add(Place(order[i], up));
        }

        return placed;
    }
}
