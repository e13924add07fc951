using Treecast.Topology.Registry;
using Treecast.Topology.Trees;
using static Treecast.Topology.Tests.Trees.Fleet;

namespace Treecast.Topology.Tests.Trees;

public sealed class When_the_tree_request_cannot_be_met
{
    private static readonly IReadOnlyList<RegisteredVmm> Vmms =
    [
        Vmm("host-01", "site-1/pod-1/rack-1"),
        Vmm("host-02", "site-1/pod-1/rack-1", lost: true),
    ];

    private readonly TreeBuilder _builder = new();

    [Fact]
    public void Should_name_an_unknown_root_and_say_to_start_its_agent()
    {
        var ex = Assert.Throws<TreeBuildException>(() => _builder.Build("host-99", 2, Vmms, 1));

        Assert.Contains("'host-99'", ex.Message);
        Assert.Contains("not registered", ex.Message);
        Assert.Contains("host-01", ex.Message);
        Assert.Contains("start the agent", ex.Message);
    }

    [Fact]
    public void Should_name_a_lost_root_and_say_to_restart_it_or_pick_a_live_one()
    {
        var ex = Assert.Throws<TreeBuildException>(() => _builder.Build("host-02", 2, Vmms, 1));

        Assert.Contains("'host-02' is lost", ex.Message);
        Assert.Contains("choose a live root", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Should_reject_a_fan_out_below_one(int fanOut)
    {
        var ex = Assert.Throws<TreeBuildException>(() => _builder.Build("host-01", fanOut, Vmms, 1));

        Assert.Contains($"Fan-out {fanOut}", ex.Message);
        Assert.Contains("'host-01'", ex.Message);
        Assert.Contains("1 or more", ex.Message);
    }

    [Fact]
    public void Should_reject_an_empty_root_id()
    {
        var ex = Assert.Throws<TreeBuildException>(() => _builder.Build(" ", 2, Vmms, 1));

        Assert.Contains("RootVmmId", ex.Message);
    }
}
