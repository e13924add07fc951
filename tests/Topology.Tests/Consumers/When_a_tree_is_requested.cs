using MassTransit;
using Treecast.Contracts;
using Treecast.TestSupport.Harness;

namespace Treecast.Topology.Tests.Consumers;

public sealed class When_a_tree_is_requested : IAsyncLifetime
{
    private TopologyHarness _topology = null!;

    public async Task InitializeAsync()
    {
        _topology = await TopologyHarness.StartAsync();
        await _topology.Beat("host-01", "site-1/pod-1/rack-1");
        await _topology.Beat("host-02", "site-1/pod-1/rack-1");
        await _topology.Beat("host-03", "site-1/pod-1/rack-1");
        await _topology.Beat("host-04", "site-1/pod-1/rack-2");
        await _topology.Beat("host-05", "site-1/pod-1/rack-2");
    }

    public async Task DisposeAsync() => await _topology.DisposeAsync();

    [Fact]
    public async Task Should_publish_a_tree_over_every_live_vmm_rooted_where_asked()
    {
        var operationId = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(operationId, "host-04", 2));

        var tree = await Resolved(operationId);
        Assert.Equal("host-04", tree.RootVmmId);
        Assert.Equal("host-04", tree.Nodes[0].VmmId);
        Assert.Equal(["host-01", "host-02", "host-03", "host-04", "host-05"], tree.Nodes.Select(n => n.VmmId).Order());
        Assert.Equal("host-04", tree.Find("host-05")!.ParentVmmId);
        Assert.Equal("http://host-02:5001", tree.Find("host-02")!.GrpcEndpoint);
        Assert.Equal(1, tree.Nodes.Count(n => n.ParentVmmId is { } p && tree.Find(p)!.Location != n.Location));
        Assert.Equal(tree, await _topology.Versions.LatestAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Should_give_each_new_tree_a_higher_version()
    {
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(first, "host-01", 2));
        var firstTree = await Resolved(first);
        await _topology.SendAsync(new ResolveTree(second, "host-01", 2));
        var secondTree = await Resolved(second);

        Assert.True(secondTree.Version > firstTree.Version, $"{secondTree.Version} should be above {firstTree.Version}");
        Assert.Equal(secondTree.Version, (await _topology.Versions.LatestAsync(CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task Should_leave_lost_vmms_out_of_the_tree()
    {
        _topology.Time.Advance(TimeSpan.FromSeconds(10));
        await _topology.Beat("host-01", "site-1/pod-1/rack-1");
        await _topology.Beat("host-05", "site-1/pod-1/rack-2");
        await _topology.Monitor().CheckAsync(CancellationToken.None);

        var operationId = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(operationId, "host-01", 2));

        var tree = await Resolved(operationId);
        Assert.Equal(["host-01", "host-05"], tree.Nodes.Select(n => n.VmmId));
    }

    [Fact]
    public async Task Should_pick_a_chain_for_a_few_hosts_and_large_images_when_the_request_leaves_the_fan_out_unset()
    {
        // 4 receivers and 2 × 64 MiB on the root: a chain sends every byte once per host, a fan-out of 2 twice.
        await _topology.Registry.RecordHeartbeatAsync(
            TopologyHarness.Heartbeat("host-01", "site-1/pod-1/rack-1") with
            {
                Vms = [new VmSummary("vm-1", VmState.Running, 64L << 20, null, null), new VmSummary("vm-2", VmState.Running, 64L << 20, null, null)],
            },
            _topology.Time.GetUtcNow(),
            CancellationToken.None);
        var operationId = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(operationId, "host-01", 0));

        var tree = await Resolved(operationId);
        Assert.Equal(1, tree.FanOut);
        Assert.All(tree.Nodes, n => Assert.True(tree.ChildrenOf(n.VmmId).Count() <= 1, $"{n.VmmId} has more than one child"));
    }

    [Fact]
    public async Task Should_pick_a_fan_out_of_two_when_the_root_reported_no_image_size()
    {
        var operationId = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(operationId, "host-01", 0));

        var tree = await Resolved(operationId);
        Assert.Equal(2, tree.FanOut);
        Assert.Equal(2, tree.ChildrenOf("host-01").Count());
    }

    [Fact]
    public async Task Should_use_the_configured_fan_out_when_one_is_configured_and_the_request_leaves_it_unset()
    {
        await using var pinned = await TopologyHarness.StartAsync(new TopologyOptions { DefaultFanOut = 3, ReconnectGrace = TimeSpan.Zero });
        foreach (var vmm in new[] { "host-01", "host-02", "host-03", "host-04" })
        {
            await pinned.Registry.RecordHeartbeatAsync(
                TopologyHarness.Heartbeat(vmm) with { Vms = [new VmSummary("vm-1", VmState.Running, 1L << 30, null, null)] },
                pinned.Time.GetUtcNow(),
                CancellationToken.None);
        }

        var operationId = Guid.NewGuid();
        await pinned.SendAsync(new ResolveTree(operationId, "host-01", 0));

        var tree = (await pinned.WaitForPublished<TreeResolved>(r => r.OperationId == operationId, TimeSpan.FromSeconds(60))).Tree;
        Assert.Equal(3, tree.FanOut);
        Assert.Equal(3, tree.ChildrenOf("host-01").Count());
    }

    [Fact]
    public async Task Should_build_the_stripe_trees_asked_for_and_the_configured_stripes_otherwise()
    {
        var striped = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(striped, "host-01", 2, Stripes: 2));
        var unset = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(unset, "host-01", 2));

        var tree = await Resolved(striped);
        Assert.Equal(2, tree.Stripes);
        Assert.All(tree.Nodes, n => Assert.Equal(2, n.StripeParents!.Count));
        Assert.Equal(_topology.Options.DefaultStripes, (await Resolved(unset)).Stripes);
    }

    [Fact]
    public async Task Should_answer_an_unknown_root_with_a_failure_that_names_it()
    {
        var operationId = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(operationId, "host-99", 2));

        var failed = await Failed(operationId);
        Assert.Equal("host-99", failed.RootVmmId);
        Assert.Contains("'host-99' is not registered", failed.Reason);
        Assert.Contains("heartbeat", failed.Reason);
        Assert.True(await _topology.Harness.Consumed.ShowsAsync<ResolveTree>(r => r.OperationId == operationId));
        Assert.Empty(_topology.Published<TreeResolved>());
        Assert.Empty(_topology.Published<Fault<ResolveTree>>());
    }

    [Fact]
    public async Task Should_answer_a_lost_root_with_a_failure_that_says_how_to_recover()
    {
        _topology.Time.Advance(TimeSpan.FromSeconds(10));
        await _topology.Beat("host-01", "site-1/pod-1/rack-1");
        await _topology.Monitor().CheckAsync(CancellationToken.None);

        var operationId = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(operationId, "host-03", 2));

        var failed = await Failed(operationId);
        Assert.Contains("'host-03' is lost", failed.Reason);
        Assert.Contains("Restart the agent", failed.Reason);
    }

    [Fact]
    public async Task Should_answer_a_negative_fan_out_with_a_failure()
    {
        var operationId = Guid.NewGuid();
        await _topology.SendAsync(new ResolveTree(operationId, "host-01", -1));

        var failed = await Failed(operationId);
        Assert.Contains("Fan-out -1", failed.Reason);
    }

    private async Task<VmmTree> Resolved(Guid operationId) =>
        (await _topology.WaitForPublished<TreeResolved>(r => r.OperationId == operationId)).Tree;

    private Task<TreeResolutionFailed> Failed(Guid operationId) =>
        _topology.WaitForPublished<TreeResolutionFailed>(r => r.OperationId == operationId);
}
