using Treecast.Contracts;

namespace Treecast.Topology.Trees;

/// <summary>
/// k stripe trees over the same VMMs (SplitStream's idea): the VMMs other than the root are dealt round-robin, in
/// location order, into k interior sets, so every rack of k hosts or more has interior hosts of every stripe. Tree s
/// places the root and set s by proximity (<see cref="ProximityLayout"/>, the root feeding one child) and hangs every
/// other VMM as a leaf from the closest interior host of tree s (same rack, else pod, else site) with the fewest
/// children. Every host is interior in at most one tree, so each sends about one image's bytes in all.
/// </summary>
internal static class StripedLayout
{
    public static VmmTree Build(TreeMember root, List<TreeMember> members, int fanOut, int stripes, int depth, long version)
    {
        // Every member's group keys, computed once: the leaves look theirs up and every stripe groups its interior hosts.
        var prefixes = members.ToDictionary(m => m.Id, m => Prefixes(m.Path, depth), StringComparer.Ordinal);
        var others = members.Where(m => !ReferenceEquals(m, root))
            .Select(m => (Member: m, Prefixes: prefixes[m.Id]))
            .OrderBy(m => m.Prefixes[depth], StringComparer.Ordinal)
            .ThenBy(m => m.Member.Id, StringComparer.Ordinal)
            .ToList();
        var parents = members.ToDictionary(m => m.Id, _ => new string?[stripes], StringComparer.Ordinal);
        List<Placement>? first = null;
        for (var stripe = 0; stripe < stripes; stripe++)
        {
            var interior = others.Where((_, i) => i % stripes == stripe).ToList();

            // Room for everyone: the root feeds one child, each interior host the rest.
            var room = interior.Count == 0 ? fanOut : Math.Max(fanOut, (others.Count - 1 + interior.Count - 1) / interior.Count);
            var layout = new ProximityLayout(room, depth, rootFanOut: 1);
            layout.PlaceCluster([root, .. interior.Select(m => m.Member)], level: 0, root, parent: null);
            var groups = GroupsOf(layout.Placed, prefixes, depth);
            foreach (var leaf in others.Where((_, i) => i % stripes != stripe))
            {
                layout.Place(leaf.Member, ClosestWithFewestChildren(groups, leaf.Prefixes, layout));
            }

            foreach (var placement in layout.Placed)
            {
                parents[placement.Member.Id][stripe] = placement.Parent?.Member.Id;
            }

            first ??= layout.Placed;
        }

        var nodes = first!
            .Select(p => new TreeNode(p.Member.Id, p.Parent?.Member.Id, p.Member.Vmm.Location, p.Member.Vmm.GrpcEndpoint, parents[p.Member.Id]))
            .ToList();
        return new VmmTree(version, root.Id, fanOut, nodes, stripes);
    }

    /// <summary>The location's group key at every number of shared levels, 0 (everyone) to <paramref name="depth"/> (same location).</summary>
    private static string[] Prefixes(string[] path, int depth)
    {
        var prefixes = new string[depth + 1];
        prefixes[0] = string.Empty;
        for (var level = 1; level <= depth; level++)
        {
            prefixes[level] = prefixes[level - 1] + "/" + ProximityPath.Level(path, level - 1);
        }

        return prefixes;
    }

    /// <summary>The interior hosts of one tree by group, per number of shared levels.</summary>
    private static Dictionary<string, List<Placement>>[] GroupsOf(List<Placement> interior, Dictionary<string, string[]> prefixesById, int depth)
    {
        var groups = Enumerable.Range(0, depth + 1).Select(_ => new Dictionary<string, List<Placement>>(StringComparer.Ordinal)).ToArray();
        foreach (var placement in interior)
        {
            var prefixes = prefixesById[placement.Member.Id];
            for (var level = 0; level <= depth; level++)
            {
                if (!groups[level].TryGetValue(prefixes[level], out var list))
                {
                    groups[level][prefixes[level]] = list = [];
                }

                list.Add(placement);
            }
        }

        return groups;
    }

    /// <summary>
    /// The leaf's parent: an interior host of the closest group that has one (proximity first, so a leaf crosses a rack only
    /// when its rack has no interior host of this tree), the one with room and the fewest children, shallowest first. When
    /// every one there is full, the least overfull takes it, the root last (it feeds one child per tree).
    /// </summary>
    private static Placement ClosestWithFewestChildren(Dictionary<string, List<Placement>>[] groups, string[] prefixes, ProximityLayout layout)
    {
        for (var level = prefixes.Length - 1; ; level--)
        {
            if (groups[level].TryGetValue(prefixes[level], out var candidates))
            {
                return candidates.Where(p => p.Children < layout.RoomOf(p)).MinBy(p => (p.Children, p.Depth, p.Order))
                    ?? candidates.MinBy(p => (p.Children - layout.RoomOf(p), p.Parent is null, p.Depth, p.Order))!;
            }
        }
    }
}
