using Treecast.Topology.Registry;
using Treecast.Topology.Trees;
using static Treecast.Topology.Tests.Trees.Fleet;

namespace Treecast.Topology.Tests.Trees;

public sealed class When_building_a_tree_over_two_racks
{
    private static readonly IReadOnlyList<RegisteredVmm> Vmms =
    [
        Vmm("a4", "site-1/pod-1/rack-1"),
        Vmm("b2", "site-1/pod-1/rack-2"),
        Vmm("a1", "site-1/pod-1/rack-1"),
        Vmm("a3", "site-1/pod-1/rack-1"),
        Vmm("b1", "site-1/pod-1/rack-2"),
        Vmm("a2", "site-1/pod-1/rack-1"),
        Vmm("c1", "site-1/pod-1/rack-2", lost: true),
    ];

    private readonly TreeBuilder _builder = new();

    [Fact]
    public void Should_fill_the_root_rack_breadth_first_and_hang_the_other_rack_from_its_shallowest_lightest_free_vmm()
    {
        var tree = _builder.Build("a1", 2, Vmms, 7);

        // a1 is full (a2, a3); a2 and a3 sit at depth 1 with room, a2 already carries a4, so rack-2's head b1 goes under
        // a3: subtrees of two and three rather than three beside a lone leaf.
        var parents = tree.Nodes.ToDictionary(n => n.VmmId, n => n.ParentVmmId);
        Assert.Equal(
            new Dictionary<string, string?> { ["a1"] = null, ["a2"] = "a1", ["a3"] = "a1", ["a4"] = "a2", ["b1"] = "a3", ["b2"] = "b1" },
            parents);
        Assert.Equal(["a1", "a2", "a3", "a4", "b1", "b2"], tree.Nodes.Select(n => n.VmmId));
    }

    [Fact]
    public void Should_hang_seven_hosts_in_three_racks_as_two_even_subtrees()
    {
        // The standalone fleet of seven hosts in three racks: racks of three, two and two.
        IReadOnlyList<RegisteredVmm> seven =
        [
            Vmm("h1", "s/p/r1"), Vmm("h2", "s/p/r1"), Vmm("h3", "s/p/r1"),
            Vmm("h4", "s/p/r2"), Vmm("h5", "s/p/r2"),
            Vmm("h6", "s/p/r3"), Vmm("h7", "s/p/r3"),
        ];

        var tree = _builder.Build("h1", 2, seven, 1);

        Assert.Equal([3, 3], tree.ChildrenOf("h1").Select(c => Subtree(tree, c.VmmId)).Order());
    }

    [Fact]
    public void Should_place_the_root_rack_first_when_the_root_is_not_its_lowest_id()
    {
        var tree = _builder.Build("b2", 1, Vmms, 7);

        Assert.Equal(["b2", "b1", "a1", "a2", "a3", "a4"], tree.Nodes.Select(n => n.VmmId));
        Assert.Equal("b1", tree.Find("a1")!.ParentVmmId);
    }

    [Fact]
    public void Should_carry_each_vmms_location_and_grpc_endpoint_into_the_tree()
    {
        var tree = _builder.Build("a1", 2, Vmms, 7);

        var b2 = tree.Find("b2")!;
        Assert.Equal("site-1/pod-1/rack-2", b2.Location);
        Assert.Equal("http://b2:5001", b2.GrpcEndpoint);
        Assert.Null(tree.Find("c1"));
    }

    private static int Subtree(Contracts.VmmTree tree, string vmmId) => 1 + tree.ChildrenOf(vmmId).Sum(c => Subtree(tree, c.VmmId));

    [Fact]
    public void Should_build_a_single_node_tree_for_a_lone_root()
    {
        var tree = _builder.Build("solo", 3, [Vmm("solo", "")], 1);

        var node = Assert.Single(tree.Nodes);
        Assert.Equal("solo", node.VmmId);
        Assert.Null(node.ParentVmmId);
    }
}
