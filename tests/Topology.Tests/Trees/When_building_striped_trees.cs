using Treecast.Contracts;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;
using static Treecast.Topology.Tests.Trees.Fleet;

namespace Treecast.Topology.Tests.Trees;

public sealed class When_building_striped_trees
{
    private readonly TreeBuilder _builder = new();

    public static TheoryData<int> Seeds => [1, 2, 3, 5, 8, 13];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_make_every_stripe_tree_span_every_live_vmm_once_under_the_root(int seed)
    {
        foreach (var (fleet, _, stripes, tree) in Trees(seed))
        {
            var live = fleet.Live.Select(v => v.VmmId).Order().ToList();
            Assert.Equal(live, tree.Nodes.Select(n => n.VmmId).Order().ToList());
            Assert.Equal(stripes, tree.Stripes);
            Assert.Equal(fleet.RootVmmId, tree.Nodes[0].VmmId);
            for (var stripe = 0; stripe < stripes; stripe++)
            {
                Assert.Single(tree.Nodes, n => n.ParentIn(stripe) is null);
                Assert.Null(tree.ParentOf(fleet.RootVmmId, stripe));
                Assert.All(tree.Nodes.Where(n => n.ParentIn(stripe) is not null), n => Assert.NotNull(tree.Find(n.ParentIn(stripe)!)));
                Assert.All(tree.Nodes, n => TreeShape.DepthOf(tree, n.VmmId, stripe));
            }

            Assert.All(tree.Nodes, n => Assert.Equal(n.ParentVmmId, n.ParentIn(0)));
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_make_every_vmm_but_the_root_interior_in_at_most_one_stripe_tree(int seed)
    {
        foreach (var (_, _, stripes, tree) in Trees(seed))
        {
            foreach (var node in tree.Nodes.Where(n => n.VmmId != tree.RootVmmId))
            {
                var interiorIn = Enumerable.Range(0, stripes).Count(s => tree.ChildrenOf(node.VmmId, s).Any());
                Assert.True(interiorIn <= 1, $"{node.VmmId} feeds children in {interiorIn} of {stripes} stripe trees");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Should_cross_racks_only_where_a_rack_lacks_an_interior_host_of_the_stripe(int seed)
    {
        foreach (var (fleet, _, stripes, tree) in Trees(seed))
        {
            var locations = fleet.Live.Select(v => v.Location).ToList();
            var rootGroup = TreeShape.Group(fleet.Vmms.Single(v => v.VmmId == fleet.RootVmmId).Location, 3);

            // A group of fewer than k hosts (the root aside) cannot hold an interior host of every stripe: its hosts may
            // each need a link out of it. Every other group is entered once per tree, as in a tree of one stripe.
            var small = fleet.Live.Where(v => v.VmmId != fleet.RootVmmId).GroupBy(v => TreeShape.Group(v.Location, 3))
                .Where(g => g.Key != rootGroup && g.Count() < stripes).Sum(g => g.Count());
            for (var stripe = 0; stripe < stripes; stripe++)
            {
                var crossing = TreeShape.CrossLinks(tree, 3, stripe);
                Assert.True(
                    crossing <= TreeShape.Groups(locations, 3) - 1 + small,
                    $"seed {seed}, {locations.Count} VMMs, {stripes} stripes: stripe {stripe} crosses racks {crossing} times, "
                    + $"{TreeShape.Groups(locations, 3)} racks and {small} hosts in racks smaller than the stripes");
            }
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 4)]
    public void Should_cross_each_level_the_minimum_number_of_times_when_every_rack_holds_k_hosts(int stripes, int fanOut)
    {
        var vmms = Datacenter(sites: 2, podsPerSite: 2, racksPerPod: 3, hostsPerRack: 6);
        var tree = _builder.Build(vmms[0].VmmId, fanOut, vmms, 1, stripes);

        var locations = vmms.Select(v => v.Location).ToList();
        for (var stripe = 0; stripe < stripes; stripe++)
        {
            for (var levels = 1; levels <= 3; levels++)
            {
                Assert.Equal(TreeShape.Groups(locations, levels) - 1, TreeShape.CrossLinks(tree, levels, stripe));
            }
        }
    }

    [Fact]
    public void Should_have_every_vmm_send_about_one_image_and_stay_shallow()
    {
        var vmms = Datacenter(sites: 1, podsPerSite: 2, racksPerPod: 4, hostsPerRack: 10);
        var tree = _builder.Build(vmms[0].VmmId, 2, vmms, 1, stripes: 2);

        // A host with c children in one stripe tree sends c halves of the image: about k children each means about S.
        foreach (var node in tree.Nodes)
        {
            var sent = Enumerable.Range(0, 2).Sum(s => tree.ChildrenOf(node.VmmId, s).Count()) / 2.0;
            Assert.InRange(sent, 0, node.VmmId == tree.RootVmmId ? 1 : 1.5);
        }

        // The root feeds one child per stripe tree; depth stays that of a tree of one stripe plus the root's hop and the leaves'.
        var single = _builder.Build(vmms[0].VmmId, 2, vmms, 1);
        var singleDepth = single.Nodes.Max(n => TreeShape.DepthOf(single, n.VmmId));
        Assert.All(Enumerable.Range(0, 2), s => Assert.Single(tree.ChildrenOf(tree.RootVmmId, s)));
        Assert.All(Enumerable.Range(0, 2), s => Assert.InRange(tree.Nodes.Max(n => TreeShape.DepthOf(tree, n.VmmId, s)), 1, singleDepth + 2));
    }

    [Fact]
    public void Should_keep_stripe_zero_a_valid_tree_alone()
    {
        var fleet = GeneratedFleet.Create(7, 30);
        var tree = _builder.Build(fleet.RootVmmId, 2, fleet.Vmms, 1, stripes: 3).FirstStripeOnly();

        Assert.Equal(1, tree.Stripes);
        Assert.All(tree.Nodes, n => Assert.Null(n.StripeParents));
        Assert.All(tree.Nodes, n => TreeShape.DepthOf(tree, n.VmmId));
        Assert.Single(tree.Nodes, n => n.ParentVmmId is null);
    }

    [Fact]
    public void Should_build_the_same_striped_tree_for_the_same_fleet_in_any_order()
    {
        var fleet = GeneratedFleet.Create(99, 40);
        var first = _builder.Build(fleet.RootVmmId, 2, fleet.Vmms, 1, stripes: 2);
        var shuffled = fleet.Vmms.OrderBy(v => v.GrpcEndpoint.Length).ThenByDescending(v => v.VmmId).ToList();
        var second = _builder.Build(fleet.RootVmmId, 2, shuffled, 1, stripes: 2);
        Assert.Equal(
            first.Nodes.Select(n => (n.VmmId, string.Join(",", n.StripeParents!))),
            second.Nodes.Select(n => (n.VmmId, string.Join(",", n.StripeParents!))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    public void Should_refuse_a_stripe_count_out_of_range(int stripes)
    {
        var fleet = GeneratedFleet.Create(1, 5);
        var error = Assert.Throws<TreeBuildException>(() => _builder.Build(fleet.RootVmmId, 2, fleet.Vmms, 1, stripes));
        Assert.Contains("1 to 16 stripes", error.Message, StringComparison.Ordinal);
    }

    private static List<RegisteredVmm> Datacenter(int sites, int podsPerSite, int racksPerPod, int hostsPerRack)
    {
        var vmms = new List<RegisteredVmm>();
        for (var s = 1; s <= sites; s++)
        {
            for (var p = 1; p <= podsPerSite; p++)
            {
                for (var r = 1; r <= racksPerPod; r++)
                {
                    for (var h = 1; h <= hostsPerRack; h++)
                    {
                        vmms.Add(Vmm($"vmm-{vmms.Count:D4}", $"site-{s}/pod-{p}/rack-{r}"));
                    }
                }
            }
        }

        return vmms;
    }

    private IEnumerable<(GeneratedFleet Fleet, int FanOut, int Stripes, VmmTree Tree)> Trees(int seed)
    {
        for (var hosts = 1; hosts <= 50; hosts += 3)
        {
            var fleet = GeneratedFleet.Create(seed * 1000 + hosts, hosts);
            for (var stripes = 2; stripes <= 4; stripes++)
            {
                for (var fanOut = 1; fanOut <= 3; fanOut++)
                {
                    yield return (fleet, fanOut, stripes, _builder.Build(fleet.RootVmmId, fanOut, fleet.Vmms, 42, stripes));
                }
            }
        }
    }
}
