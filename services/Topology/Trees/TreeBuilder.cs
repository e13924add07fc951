using Treecast.Contracts;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Trees;

/// <summary>
/// Builds the tree of live VMMs under a root so that parent–child links follow proximity: the hosts of one
/// rack form one connected subtree, as do those of one pod and one site, so a tree over R racks has exactly
/// R−1 links between racks. Pure: the same inputs give the same tree.
/// </summary>
public sealed class TreeBuilder
{
    /// <param name="vmms">The registry's entries, lost ones included (they are left out, but name a lost root properly).</param>
    /// <exception cref="TreeBuildException">The root is unknown or lost, or the fan-out is below one.</exception>
    public VmmTree Build(string rootVmmId, int fanOut, IReadOnlyCollection<RegisteredVmm> vmms, long version)
    {
        ArgumentNullException.ThrowIfNull(vmms);
        if (fanOut < 1)
        {
            throw new TreeBuildException(
                $"Fan-out {fanOut} for the tree rooted at VMM '{rootVmmId}' is invalid: every VMM must be allowed at least one child. "
                + "Ask for a fan-out of 1 or more (or 0 for the configured default).");
        }

        if (string.IsNullOrWhiteSpace(rootVmmId))
        {
            throw new TreeBuildException(
                "The tree request names no root VMM. Set RootVmmId to the id of a VMM whose agent sends heartbeats.");
        }

        var duplicate = vmms.GroupBy(v => v.VmmId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"VMM '{duplicate.Key}' appears {duplicate.Count()} times; a registry holds each VMM once.", nameof(vmms));
        }

        var root = vmms.FirstOrDefault(v => string.Equals(v.VmmId, rootVmmId, StringComparison.Ordinal))
            ?? throw new TreeBuildException(
                $"Root VMM '{rootVmmId}' is not registered: no heartbeat has ever been received from it. "
                + $"Check the id (known VMMs: {Sample(vmms)}) or start the agent on that host, wait for its first heartbeat, and ask again.");
        if (root.IsLost)
        {
            throw new TreeBuildException(
                $"Root VMM '{rootVmmId}' is lost: its last heartbeat arrived at {root.LastSeenAt:O}. "
                + "Restart the agent on that host (the VMM rejoins with its next heartbeat) or choose a live root, and ask again.");
        }

        var members = vmms.Where(v => !v.IsLost).Select(v => new Member(v, ProximityPath.Split(v.Location))).ToList();
        var layout = new Layout(fanOut, members.Max(m => m.Path.Length));
        layout.PlaceCluster(members, level: 0, head: members.First(m => ReferenceEquals(m.Vmm, root)), parent: null);
        var nodes = layout.Placed
            .Select(p => new TreeNode(p.Member.Vmm.VmmId, p.Parent?.Member.Vmm.VmmId, p.Member.Vmm.Location, p.Member.Vmm.GrpcEndpoint))
            .ToList();
        return new VmmTree(version, root.VmmId, fanOut, nodes);
    }

    private static string Sample(IReadOnlyCollection<RegisteredVmm> vmms)
    {
        const int shown = 5;
        if (vmms.Count == 0)
        {
            return "none yet";
        }

        var ids = string.Join(", ", vmms.Select(v => v.VmmId).Order(StringComparer.Ordinal).Take(shown));
        return vmms.Count > shown ? $"{ids}, … {vmms.Count - shown} more" : ids;
    }

    private sealed record Member(RegisteredVmm Vmm, string[] Path)
    {
        public string Id => Vmm.VmmId;
    }

    private sealed class Placement(Member member, Placement? parent, int order)
    {
        public Member Member { get; } = member;

        public Placement? Parent { get; } = parent;

        public int Depth { get; } = parent is null ? 0 : parent.Depth + 1;

        public int Order { get; } = order;

        public int Children { get; set; }
    }

    private sealed class Layout(int fanOut, int depth)
    {
        public List<Placement> Placed { get; } = [];

        /// <summary>Places a cluster (hosts sharing the first <paramref name="level"/> levels) under <paramref name="parent"/>, head first.</summary>
        /// <returns>The cluster's placements, in placement order.</returns>
        public List<Placement> PlaceCluster(List<Member> members, int level, Member head, Placement? parent)
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
            foreach (var (key, group) in groups.Where(g => g.Key != headKey).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                // Only nodes of this cluster are candidates: attaching elsewhere would split the cluster in two.
                // A finite tree always has a leaf, so a node with spare fan-out exists.
                var attach = placed.Where(p => p.Children < fanOut).MinBy(p => (p.Depth, p.Order))!;
                var subHead = group.MinBy(m => m.Id, StringComparer.Ordinal)!;
                placed.AddRange(PlaceCluster(group, level + 1, subHead, attach));
            }

            return placed;
        }

        /// <summary>Hosts at one location: a complete tree in breadth-first order, so the rack is as shallow as the fan-out allows.</summary>
        private List<Placement> PlaceRack(List<Member> members, Member head, Placement? parent)
        {
            var order = members.Where(m => !ReferenceEquals(m, head)).OrderBy(m => m.Id, StringComparer.Ordinal).Prepend(head).ToList();
            var placed = new List<Placement>(order.Count);
            for (var i = 0; i < order.Count; i++)
            {
                var up = i == 0 ? parent : placed[(i - 1) / fanOut];
                if (up is not null)
                {
                    up.Children++;
                }

                var placement = new Placement(order[i], up, Placed.Count);
                placed.Add(placement);
                Placed.Add(placement);
            }

            return placed;
        }
    }
}
