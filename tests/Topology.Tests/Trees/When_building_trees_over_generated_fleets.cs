using Treecast.Contracts;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests.Trees;

public sealed class When_building_trees_over_generated_fleets
{
    private readonly TreeBuilder _builder = new();

    public static TheoryData<int> Seeds => [1, 2, 3, 5, 8, 13, 21, 34];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_place_every_live_vmm_exactly_once_with_the_root_first(int seed)
    {
        foreach (var (fleet, fanOut, tree) in Trees(seed))
        {
            var live = fleet.Live.Select(v => v.VmmId).Order().ToList();
            Assert.Equal(live, tree.Nodes.Select(n => n.VmmId).Order().ToList());
            Assert.Equal(fleet.RootVmmId, tree.Nodes[0].VmmId);
            Assert.Equal(fleet.RootVmmId, tree.RootVmmId);
            Assert.Equal(fanOut, tree.FanOut);
            Assert.Equal(42, tree.Version);
            Assert.DoesNotContain(tree.Nodes, n => fleet.Vmms.Single(v => v.VmmId == n.VmmId).IsLost);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_form_one_tree_without_cycles_under_the_root(int seed)
    {
        foreach (var (_, _, tree) in Trees(seed))
        {
            var ids = tree.Nodes.Select(n => n.VmmId).ToHashSet();
            Assert.Null(tree.Find(tree.RootVmmId)!.ParentVmmId);
            Assert.Single(tree.Nodes, n => n.ParentVmmId is null);
            Assert.All(tree.Nodes.Where(n => n.ParentVmmId is not null), n => Assert.Contains(n.ParentVmmId!, ids));
            Assert.All(tree.Nodes, n => TreeShape.DepthOf(tree, n.VmmId));

            // Parents come before children, so a reader can walk the list once, top down.
            var seen = new HashSet<string>();
            foreach (var node in tree.Nodes)
            {
                Assert.True(node.ParentVmmId is null || seen.Contains(node.ParentVmmId), $"{node.VmmId} is listed before its parent");
                seen.Add(node.VmmId);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_give_no_vmm_more_children_than_the_fan_out(int seed)
    {
        foreach (var (_, fanOut, tree) in Trees(seed))
        {
            Assert.All(tree.Nodes, n => Assert.InRange(tree.ChildrenOf(n.VmmId).Count(), 0, fanOut));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_cross_each_rack_pod_and_site_boundary_only_once_per_extra_group(int seed)
    {
        foreach (var (fleet, fanOut, tree) in Trees(seed))
        {
            var locations = fleet.Live.Select(v => v.Location).ToList();
            for (var levels = 1; levels <= 3; levels++)
            {
                Assert.True(
                    TreeShape.Groups(locations, levels) - 1 == TreeShape.CrossLinks(tree, levels),
                    $"seed {seed}, {locations.Count} live VMMs, fan-out {fanOut}: {TreeShape.Groups(locations, levels)} groups at "
                    + $"{levels} levels but {TreeShape.CrossLinks(tree, levels)} links between them");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_keep_deeper_locations_connected_too(int seed)
    {
        for (var hosts = 1; hosts <= 60; hosts += 7)
        {
            var fleet = GeneratedFleet.Create(seed * 1000 + hosts, hosts, maxLevels: 4);
            var tree = _builder.Build(fleet.RootVmmId, 2, fleet.Vmms, 1);
            var locations = fleet.Live.Select(v => v.Location).ToList();
            Assert.Equal(TreeShape.Groups(locations, 4) - 1, TreeShape.CrossLinks(tree, 4));
            Assert.Equal(TreeShape.Groups(locations, 3) - 1, TreeShape.CrossLinks(tree, 3));
        }
    }

    [Fact]
    public void Should_build_the_same_tree_for_the_same_fleet_in_any_order()
    {
        var fleet = GeneratedFleet.Create(99, 40);
        var first = _builder.Build(fleet.RootVmmId, 3, fleet.Vmms, 1);
        var shuffled = fleet.Vmms.OrderBy(v => v.GrpcEndpoint.Length).ThenByDescending(v => v.VmmId).ToList();
        var second = _builder.Build(fleet.RootVmmId, 3, shuffled, 1);
        Assert.Equal(first.Nodes, second.Nodes);
    }

    private IEnumerable<(GeneratedFleet Fleet, int FanOut, VmmTree Tree)> Trees(int seed)
    {
        for (var hosts = 1; hosts <= 60; hosts++)
        {
            var fleet = GeneratedFleet.Create(seed * 1000 + hosts, hosts);
            for (var fanOut = 1; fanOut <= 4; fanOut++)
            {
                yield return (fleet, fanOut, _builder.Build(fleet.RootVmmId, fanOut, fleet.Vmms, 42));
            }
        }
    }
}
