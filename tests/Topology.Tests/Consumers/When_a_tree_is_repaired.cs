using MassTransit;
using Treecast.Contracts;
using Treecast.TestSupport.Harness;
using Treecast.Topology.Tests.Trees;

namespace Treecast.Topology.Tests.Consumers;

public sealed class When_a_tree_is_repaired : IAsyncLifetime
{
    private static readonly string[] Everyone = ["host-01", "host-02", "host-03", "host-04", "host-05", "host-06", "host-07"];

    private TopologyHarness _topology = null!;

    public async Task InitializeAsync()
    {
        _topology = await TopologyHarness.StartAsync();
        await _topology.Beat("host-01", "site-1/pod-1/rack-1");
        await _topology.Beat("host-02", "site-1/pod-1/rack-1");
        await _topology.Beat("host-03", "site-1/pod-1/rack-1");
        await _topology.Beat("host-04", "site-1/pod-1/rack-2");
        await _topology.Beat("host-05", "site-1/pod-1/rack-2");
        await _topology.Beat("host-06", "site-1/pod-2/rack-1");
        await _topology.Beat("host-07", "site-1/pod-2/rack-1");
    }

    public async Task DisposeAsync() => await _topology.DisposeAsync();

    [Fact]
    public async Task Should_place_every_live_member_once_and_name_the_ones_left_out()
    {
        var operationId = Guid.NewGuid();
        var previous = await ResolveAsync(operationId);
        await LoseAsync("host-04");

        await _topology.SendAsync(new RepairTree(operationId, "host-01", 2, [.. Everyone.Where(v => v != "host-01"), "host-99"], previous.Version));

        var repaired = await Repaired(operationId);
        Assert.Equal(["host-01", "host-02", "host-03", "host-05", "host-06", "host-07"], repaired.Tree.Nodes.Select(n => n.VmmId).Order());
        Assert.Equal(["host-04", "host-99"], repaired.Left);
        Assert.Equal("host-01", repaired.Tree.RootVmmId);
        TreeShape.AssertWellFormed(repaired.Tree, 2);

        // host-04's subtree (host-05, same rack) hangs on host-05 now, the rack still reached by one link.
        Assert.Equal(1, repaired.Tree.Nodes.Count(n => n.Location == "site-1/pod-1/rack-2"));
        Assert.NotEqual("host-04", repaired.Tree.Find("host-05")!.ParentVmmId);
    }

    [Fact]
    public async Task Should_give_the_repaired_tree_a_higher_version_and_record_it()
    {
        var operationId = Guid.NewGuid();
        var previous = await ResolveAsync(operationId);
        await LoseAsync("host-02");

        await _topology.SendAsync(new RepairTree(operationId, "host-01", 2, Everyone, previous.Version));

        var repaired = await Repaired(operationId);
        Assert.True(repaired.Tree.Version > previous.Version, $"{repaired.Tree.Version} should be above {previous.Version}");
        Assert.Equal(repaired.Tree, await _topology.Versions.LatestAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Should_stay_above_the_operations_version_even_if_this_service_restarted()
    {
        // An operation's tree from before a restart of a topology service that keeps its versions in memory.
        var operationId = Guid.NewGuid();

        await _topology.SendAsync(new RepairTree(operationId, "host-01", 2, Everyone, PreviousVersion: 1000));

        Assert.True((await Repaired(operationId)).Tree.Version > 1000);
    }

    [Fact]
    public async Task Should_place_only_the_members_of_the_operation()
    {
        var operationId = Guid.NewGuid();

        await _topology.SendAsync(new RepairTree(operationId, "host-06", 3, ["host-06", "host-02", "host-07"], 1));

        var repaired = await Repaired(operationId);
        Assert.Equal(["host-02", "host-06", "host-07"], repaired.Tree.Nodes.Select(n => n.VmmId).Order());
        Assert.Empty(repaired.Left);
        Assert.Equal(3, repaired.Tree.FanOut);
    }

    [Fact]
    public async Task Should_use_the_endpoints_the_members_announced_last()
    {
        var operationId = Guid.NewGuid();
        var previous = await ResolveAsync(operationId);

        // host-03's agent restarted on another port.
        await _topology.Registry.RecordHeartbeatAsync(
            TopologyHarness.Heartbeat("host-03", "site-1/pod-1/rack-1") with { GrpcEndpoint = "http://host-03:6001" },
            _topology.Time.GetUtcNow(),
            CancellationToken.None);
        await _topology.SendAsync(new RepairTree(operationId, "host-01", 2, Everyone, previous.Version));

        var repaired = await Repaired(operationId);
        Assert.Equal("http://host-03:6001", repaired.Tree.Find("host-03")!.GrpcEndpoint);
        Assert.Equal("http://host-03:5001", previous.Find("host-03")!.GrpcEndpoint);
    }

    [Fact]
    public async Task Should_answer_a_lost_root_with_a_failure_and_no_tree()
    {
        var operationId = Guid.NewGuid();
        var previous = await ResolveAsync(operationId);
        await LoseAsync("host-01");

        await _topology.SendAsync(new RepairTree(operationId, "host-01", 2, Everyone, previous.Version));

        var failed = await _topology.WaitForPublished<TreeResolutionFailed>(f => f.OperationId == operationId);
        Assert.Equal("host-01", failed.RootVmmId);
        Assert.Contains("'host-01' is lost", failed.Reason);
        Assert.True(await _topology.Harness.Consumed.ShowsAsync<RepairTree>(r => r.OperationId == operationId));
        Assert.DoesNotContain(_topology.Published<TreeRepaired>(), r => r.OperationId == operationId);
        Assert.Empty(_topology.Published<Fault<RepairTree>>());
    }

    [Fact]
    public async Task Should_answer_an_unknown_root_with_a_failure_that_names_it()
    {
        var operationId = Guid.NewGuid();

        await _topology.SendAsync(new RepairTree(operationId, "host-99", 2, Everyone, 4));

        var failed = await _topology.WaitForPublished<TreeResolutionFailed>(f => f.OperationId == operationId);
        Assert.Contains("'host-99' is not registered", failed.Reason);
    }

    private async Task<VmmTree> ResolveAsync(Guid operationId)
    {
        await _topology.SendAsync(new ResolveTree(operationId, "host-01", 2));
        return (await _topology.WaitForPublished<TreeResolved>(r => r.OperationId == operationId)).Tree;
    }

    /// <summary>Every other VMM keeps beating; <paramref name="vmmId"/> stops and the liveness monitor declares it lost.</summary>
    private async Task LoseAsync(string vmmId)
    {
        _topology.Time.Advance(TimeSpan.FromSeconds(10));
        foreach (var (id, location) in (await _topology.Registry.ListAsync(CancellationToken.None)).Select(v => (v.VmmId, v.Location)))
        {
            if (id != vmmId)
            {
                await _topology.Beat(id, location);
            }
        }

        await _topology.Monitor().CheckAsync(CancellationToken.None);
        Assert.True((await _topology.Registry.FindAsync(vmmId, CancellationToken.None))!.IsLost);
    }

    private Task<TreeRepaired> Repaired(Guid operationId) =>
        _topology.WaitForPublished<TreeRepaired>(r => r.OperationId == operationId);
}
