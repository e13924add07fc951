using MassTransit;
using Treecast.Contracts;

namespace Treecast.Topology.Tests.Liveness;

/// <summary>
/// A broker outage (or a restart of the topology service) silences every VMM at once. That silence is not theirs: no
/// VMM is lost while the queue cannot receive, and after it receives again each gets its full number of intervals.
/// </summary>
public sealed class When_the_topology_queue_stops_receiving : IAsyncLifetime
{
    private static readonly Uri TopologyQueue = new($"rabbitmq://localhost/{Addresses.TopologyQueue}");
    private TopologyHarness _topology = null!;

    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    public async Task InitializeAsync() =>
        _topology = await TopologyHarness.StartAsync(new TopologyOptions { ReconnectGrace = Grace });

    public async Task DisposeAsync() => await _topology.DisposeAsync();

    [Fact]
    public async Task Should_judge_no_vmm_while_the_broker_is_out_of_reach()
    {
        await _topology.Beat("host-01");
        await _topology.Reception.Faulted(new EndpointFaulted(TopologyQueue));

        _topology.Time.Advance(TimeSpan.FromMinutes(10));
        var lost = await _topology.Monitor().CheckAsync(CancellationToken.None);

        Assert.Empty(lost);
        Assert.Empty(_topology.Published<VmmLost>());
    }

    [Fact]
    public async Task Should_give_every_vmm_the_grace_and_its_intervals_after_the_queue_receives_again()
    {
        await _topology.Beat("host-01");
        await _topology.Beat("host-02");
        await _topology.Reception.Faulted(new EndpointFaulted(TopologyQueue));
        _topology.Time.Advance(TimeSpan.FromSeconds(20));
        await _topology.Reception.Ready(new EndpointReady(TopologyQueue));
        var monitor = _topology.Monitor();

        // Agents reconnect on their own schedule: host-02 is heard late in the grace, host-01 never.
        _topology.Time.Advance(Grace + TimeSpan.FromSeconds(2));
        await _topology.Beat("host-02");
        Assert.Empty(await monitor.CheckAsync(CancellationToken.None));

        // Three of host-01's intervals after the grace, it is lost; host-02 still beats.
        _topology.Time.Advance(TimeSpan.FromSeconds(1.5));
        await _topology.Beat("host-02");
        var lost = await monitor.CheckAsync(CancellationToken.None);

        Assert.Equal(["host-01"], lost.Select(v => v.VmmId));
    }

    [Fact]
    public async Task Should_ignore_other_endpoints_of_the_process()
    {
        await _topology.Beat("host-01");
        await _topology.Reception.Faulted(new EndpointFaulted(new Uri("rabbitmq://localhost/agent-host-01")));

        _topology.Time.Advance(Grace + TimeSpan.FromSeconds(4));

        Assert.Equal(["host-01"], (await _topology.Monitor().CheckAsync(CancellationToken.None)).Select(v => v.VmmId));
    }

    private sealed record EndpointFaulted(Uri InputAddress) : ReceiveEndpointFaulted
    {
        public IReceiveEndpoint ReceiveEndpoint => null!;

        public Exception Exception { get; } = new InvalidOperationException("broker unreachable");
    }

    private sealed record EndpointReady(Uri InputAddress) : ReceiveEndpointReady
    {
        public IReceiveEndpoint ReceiveEndpoint => null!;

        public bool IsStarted => true;
    }
}
