using Treecast.Contracts;
using Treecast.TestSupport;
using Treecast.TestSupport.Harness;

namespace Treecast.Topology.Tests.Liveness;

public sealed class When_heartbeats_stop : IAsyncLifetime
{
    private TopologyHarness _topology = null!;

    public async Task InitializeAsync() => _topology = await TopologyHarness.StartAsync();

    public async Task DisposeAsync() => await _topology.DisposeAsync();

    [Fact]
    public async Task Should_keep_a_vmm_live_until_three_intervals_have_passed()
    {
        await _topology.Beat("host-01");
        var monitor = _topology.Monitor();

        _topology.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Empty(await monitor.CheckAsync(CancellationToken.None));

        Assert.False((await _topology.Registry.FindAsync("host-01", CancellationToken.None))!.IsLost);
        Assert.Empty(_topology.Published<VmmLost>());
    }

    [Fact]
    public async Task Should_mark_the_vmm_lost_and_publish_vmm_lost_once()
    {
        await _topology.Beat("host-01");
        var seenAt = _topology.Time.GetUtcNow();
        var monitor = _topology.Monitor();

        _topology.Time.Advance(TimeSpan.FromSeconds(3.5));
        await monitor.CheckAsync(CancellationToken.None);
        _topology.Time.Advance(TimeSpan.FromSeconds(5));
        await monitor.CheckAsync(CancellationToken.None);

        var lost = Assert.Single(_topology.Published<VmmLost>());
        Assert.Equal("host-01", lost.VmmId);
        Assert.Equal(seenAt, lost.LastSeenAt);
        Assert.Equal(seenAt.AddSeconds(3.5), lost.DetectedAt);
        Assert.True((await _topology.Registry.FindAsync("host-01", CancellationToken.None))!.IsLost);
        Assert.Empty(await _topology.Registry.ListLiveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Should_keep_vmms_that_still_send_heartbeats()
    {
        await _topology.Beat("host-01");
        await _topology.Beat("host-02");
        var monitor = _topology.Monitor();

        for (var second = 0; second < 5; second++)
        {
            _topology.Time.Advance(TimeSpan.FromSeconds(1));
            await _topology.Beat("host-02");
            await monitor.CheckAsync(CancellationToken.None);
        }

        Assert.Equal(["host-01"], _topology.Published<VmmLost>().Select(l => l.VmmId));
        Assert.Equal(["host-02"], (await _topology.Registry.ListLiveAsync(CancellationToken.None)).Select(v => v.VmmId));
    }

    [Fact]
    public async Task Should_judge_each_vmm_by_its_own_heartbeat_interval()
    {
        await _topology.Beat("fast", intervalSeconds: 1);
        await _topology.Beat("slow", intervalSeconds: 5);

        _topology.Time.Advance(TimeSpan.FromSeconds(10));
        var lost = await _topology.Monitor().CheckAsync(CancellationToken.None);

        Assert.Equal(["fast"], lost.Select(v => v.VmmId));
    }

    [Fact]
    public async Task Should_register_a_returning_vmm_again_and_report_a_second_loss()
    {
        await _topology.Harness.Bus.Publish(TopologyHarness.Heartbeat("host-01"));
        Assert.True(await _topology.Harness.Published.ShowsAsync<VmmRegistered>());
        var monitor = _topology.Monitor();
        _topology.Time.Advance(TimeSpan.FromSeconds(4));
        await monitor.CheckAsync(CancellationToken.None);

        await _topology.Harness.Bus.Publish(TopologyHarness.Heartbeat("host-01"));
        await Eventually.TrueAsync(() => _topology.Published<VmmRegistered>().Count == 2);
        Assert.Equal(2, _topology.Published<VmmRegistered>().Count);

        Assert.False((await _topology.Registry.FindAsync("host-01", CancellationToken.None))!.IsLost);
        _topology.Time.Advance(TimeSpan.FromSeconds(4));
        await monitor.CheckAsync(CancellationToken.None);
        Assert.Equal(2, _topology.Published<VmmLost>().Count);
    }

    [Fact]
    public async Task Should_find_lost_vmms_on_its_own_timer()
    {
        await _topology.Beat("host-01");
        var monitor = _topology.Monitor();
        await monitor.StartAsync(CancellationToken.None);
        try
        {
            // Each tick lets the monitor's loop run once on the fake clock; a loaded machine may need many before a
            // pass has run after the threshold (extra ticks cannot announce a lost VMM twice).
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (_topology.Published<VmmLost>().Count == 0 && waited.Elapsed < TimeSpan.FromMinutes(1))
            {
                _topology.Time.Advance(_topology.Options.LivenessCheckInterval);
                await Eventually.TrueAsync(() => _topology.Published<VmmLost>().Count > 0, TimeSpan.FromMilliseconds(200));
            }

            Assert.Equal("host-01", Assert.Single(_topology.Published<VmmLost>()).VmmId);
        }
        finally
        {
            await monitor.StopAsync(CancellationToken.None);
        }
    }
}
