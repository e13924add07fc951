using MassTransit;
using Treecast.Contracts;
using Treecast.TestSupport;
using Treecast.TestSupport.Harness;

namespace Treecast.Topology.Tests.Consumers;

public sealed class When_heartbeats_arrive : IAsyncLifetime
{
    private TopologyHarness _topology = null!;

    public async Task InitializeAsync() => _topology = await TopologyHarness.StartAsync();

    public async Task DisposeAsync() => await _topology.DisposeAsync();

    [Fact]
    public async Task Should_register_a_new_vmm_and_announce_it()
    {
        await _topology.Harness.Bus.Publish(TopologyHarness.Heartbeat("host-07", "site-2/pod-1/rack-4"));

        Assert.True(await _topology.Harness.Published.ShowsAsync<VmmRegistered>());
        var registered = Assert.Single(_topology.Published<VmmRegistered>());
        Assert.Equal(new VmmRegistered("host-07", "site-2/pod-1/rack-4", "http://host-07:5001"), registered);

        var vmm = await _topology.Registry.FindAsync("host-07", CancellationToken.None);
        Assert.NotNull(vmm);
        Assert.Equal(["host-07-vm-1"], vmm.VmIds);
        Assert.Equal(TimeSpan.FromSeconds(1), vmm.Interval);
        // The agent's clock said a year ago; the registry trusts only its own.
        Assert.Equal(TopologyHarness.Start, vmm.LastSeenAt);
    }

    [Fact]
    public async Task Should_not_announce_a_known_vmm_again_on_each_heartbeat()
    {
        for (var beat = 0; beat < 3; beat++)
        {
            _topology.Time.Advance(TimeSpan.FromSeconds(1));
            await _topology.Harness.Bus.Publish(TopologyHarness.Heartbeat("host-07"));
        }

        Assert.True(await Eventually.TrueAsync(() => _topology.Harness.Consumed.Now<VmmHeartbeat>(h => h.VmmId == "host-07").Count >= 3));
        Assert.Equal(3, _topology.Harness.Consumed.Now<VmmHeartbeat>().Count);
        Assert.Single(_topology.Published<VmmRegistered>());
        Assert.Equal(TopologyHarness.Start.AddSeconds(3), (await _topology.Registry.FindAsync("host-07", CancellationToken.None))!.LastSeenAt);
    }

    [Fact]
    public async Task Should_announce_a_vmm_that_moved_to_another_rack()
    {
        await _topology.Harness.Bus.Publish(TopologyHarness.Heartbeat("host-07", "site-1/pod-1/rack-1"));
        await _topology.Harness.Bus.Publish(TopologyHarness.Heartbeat("host-07", "site-1/pod-1/rack-2"));
        Assert.True(await Eventually.TrueAsync(() => _topology.Harness.Consumed.Now<VmmHeartbeat>().Count >= 2));

        Assert.Equal(
            ["site-1/pod-1/rack-1", "site-1/pod-1/rack-2"],
            _topology.Published<VmmRegistered>().Select(r => r.Location).Order());
    }

    [Fact]
    public async Task Should_fault_a_heartbeat_without_a_vmm_id_so_it_reaches_the_error_queue()
    {
        await _topology.Harness.Bus.Publish(TopologyHarness.Heartbeat(""));

        Assert.True(await _topology.Harness.Published.ShowsAsync<Fault<VmmHeartbeat>>());
        var fault = _topology.Published<Fault<VmmHeartbeat>>().Single();
        Assert.Contains("has no VmmId", fault.Exceptions[0].Message);
        Assert.Empty(await _topology.Registry.ListAsync(CancellationToken.None));
    }
}
