using Treecast.Contracts;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Trees;

/// <summary>
/// Builds the tree of live VMMs under a root so that parent–child links follow proximity: the hosts of one
/// rack form one connected subtree, as do those of one pod and one site, so a tree over R racks has exactly
/// R−1 links between racks. Subtrees hung under one parent are kept as even as that allows. With k stripes it
/// builds k such trees over the same VMMs (<see cref="StripedLayout"/>), each host interior in at most one of them.
/// Pure: the same inputs give the same tree.
/// </summary>
public sealed class TreeBuilder
{
    /// <param name="vmms">The registry's entries, lost ones included (they are left out, but name a lost root properly).</param>
    /// <param name="stripes">How many stripe trees (1 = one tree carrying every chunk).</param>
    /// <exception cref="TreeBuildException">The root is unknown or lost, the fan-out is below one, or the stripes are out of range.</exception>
    public VmmTree Build(string rootVmmId, int fanOut, IReadOnlyCollection<RegisteredVmm> vmms, long version, int stripes = 1)
    {
        ArgumentNullException.ThrowIfNull(vmms);
        if (fanOut < 1)
        {
            throw new TreeBuildException(
                $"Fan-out {fanOut} for the tree rooted at VMM '{rootVmmId}' is invalid: every VMM must be allowed at least one child. "
                + "Ask for a fan-out of 1 or more (or 0 for the configured default).");
        }

        if (stripes is < 1 or > VmmTree.MaxStripes)
        {
            throw new TreeBuildException(
                $"{stripes} stripes for the tree rooted at VMM '{rootVmmId}' is invalid. Ask for 1 to {VmmTree.MaxStripes} stripes (or 0 for the default).");
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

        var members = vmms.Where(v => !v.IsLost).Select(v => new TreeMember(v, ProximityPath.Split(v.Location))).ToList();
        var head = members.First(m => ReferenceEquals(m.Vmm, root));
        var depth = members.Max(m => m.Path.Length);
        if (stripes > 1)
        {
            return StripedLayout.Build(head, members, fanOut, stripes, depth, version);
        }

        var layout = new ProximityLayout(fanOut, depth);
        layout.PlaceCluster(members, level: 0, head, parent: null);
        var nodes = layout.Placed
            .Select(p => new TreeNode(p.Member.Id, p.Parent?.Member.Id, p.Member.Vmm.Location, p.Member.Vmm.GrpcEndpoint))
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
}
