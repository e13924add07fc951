using Treecast.Contracts;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Tests.Registry;

public sealed class When_many_agents_report_at_once
{
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly InMemoryVmmRegistry _registry = new();

    [Fact]
    public async Task Should_register_each_vmm_exactly_once()
    {
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() =>
            _registry.RecordHeartbeatAsync(Heartbeat($"host-{i % 100:D3}"), Now, CancellationToken.None))));

        Assert.Equal(100, outcomes.Count(o => o == HeartbeatOutcome.Registered));
        Assert.Equal(300, outcomes.Count(o => o == HeartbeatOutcome.Refreshed));
        Assert.Equal(100, (await _registry.ListLiveAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Should_keep_a_vmm_live_when_a_heartbeat_lands_between_the_check_and_the_mark()
    {
        await _registry.RecordHeartbeatAsync(Heartbeat("host-001"), Now, CancellationToken.None);
        var judged = (await _registry.FindAsync("host-001", CancellationToken.None))!;

        await _registry.RecordHeartbeatAsync(Heartbeat("host-001"), Now.AddSeconds(4), CancellationToken.None);
        var marked = await _registry.MarkLostAsync("host-001", judged.LastSeenAt, CancellationToken.None);

        Assert.Null(marked);
        Assert.False((await _registry.FindAsync("host-001", CancellationToken.None))!.IsLost);
    }

    [Fact]
    public async Task Should_report_a_lost_vmm_as_returned_on_its_next_heartbeat()
    {
        await _registry.RecordHeartbeatAsync(Heartbeat("host-001"), Now, CancellationToken.None);
        Assert.NotNull(await _registry.MarkLostAsync("host-001", Now, CancellationToken.None));
        Assert.Null(await _registry.MarkLostAsync("host-001", Now, CancellationToken.None));

        var outcome = await _registry.RecordHeartbeatAsync(Heartbeat("host-001"), Now.AddSeconds(9), CancellationToken.None);

        Assert.Equal(HeartbeatOutcome.Returned, outcome);
        Assert.Single(await _registry.ListLiveAsync(CancellationToken.None));
    }

    private static VmmHeartbeat Heartbeat(string vmmId) =>
        new(vmmId, $"http://{vmmId}:5001", "site-1/pod-1/rack-1", [], Now, TimeSpan.FromSeconds(1));
}
