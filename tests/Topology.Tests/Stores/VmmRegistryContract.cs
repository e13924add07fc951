using Treecast.Contracts;
using Treecast.Topology.Registry;

namespace Treecast.Topology.Tests.Stores;

/// <summary>What every VMM registry must do, asserted the same way against each store. A subclass names the store.</summary>
public abstract class VmmRegistryContract
{
    protected static readonly DateTimeOffset Start = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    /// <summary>An empty registry; skips the test, with the reason, when the store is not reachable here.</summary>
    protected abstract IVmmRegistry CreateRegistry();

    [SkippableFact]
    public async Task A_first_heartbeat_registers_the_vmm_with_what_it_reported()
    {
        var registry = CreateRegistry();

        var outcome = await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start, CancellationToken.None);

        Assert.Equal(HeartbeatOutcome.Registered, outcome);
        var vmm = await registry.FindAsync("vmm-a", CancellationToken.None);
        Assert.NotNull(vmm);
        Assert.Equal("http://vmm-a:5100", vmm.GrpcEndpoint);
        Assert.Equal("site-1/pod-1/rack-1", vmm.Location);
        Assert.Equal(["vmm-a-vm-1", "vmm-a-vm-2"], vmm.VmIds);
        Assert.Equal(Heartbeat("vmm-a").Vms, vmm.Vms);
        Assert.Equal(Start, vmm.LastSeenAt);
        Assert.Equal(TimeSpan.FromSeconds(2), vmm.Interval);
        Assert.False(vmm.IsLost);
    }

    [SkippableFact]
    public async Task The_same_heartbeat_again_only_refreshes()
    {
        var registry = CreateRegistry();
        await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start, CancellationToken.None);

        var outcome = await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start.AddSeconds(2), CancellationToken.None);

        Assert.Equal(HeartbeatOutcome.Refreshed, outcome);
        Assert.Equal(Start.AddSeconds(2), (await registry.FindAsync("vmm-a", CancellationToken.None))?.LastSeenAt);
    }

    [SkippableFact]
    public async Task A_new_endpoint_or_location_is_a_move()
    {
        var registry = CreateRegistry();
        await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start, CancellationToken.None);

        var moved = await registry.RecordHeartbeatAsync(Heartbeat("vmm-a", location: "site-1/pod-2/rack-7"), Start.AddSeconds(2), CancellationToken.None);

        Assert.Equal(HeartbeatOutcome.Moved, moved);
        Assert.Equal("site-1/pod-2/rack-7", (await registry.FindAsync("vmm-a", CancellationToken.None))?.Location);
    }

    [SkippableFact]
    public async Task Lists_every_vmm_by_id_and_the_live_ones_apart()
    {
        var registry = CreateRegistry();
        foreach (var id in new[] { "vmm-c", "vmm-a", "vmm-b" })
        {
            await registry.RecordHeartbeatAsync(Heartbeat(id), Start, CancellationToken.None);
        }

        await registry.MarkLostAsync("vmm-b", Start, CancellationToken.None);

        Assert.Equal(["vmm-a", "vmm-b", "vmm-c"], (await registry.ListAsync(CancellationToken.None)).Select(v => v.VmmId));
        Assert.Equal(["vmm-a", "vmm-c"], (await registry.ListLiveAsync(CancellationToken.None)).Select(v => v.VmmId));
    }

    [SkippableFact]
    public async Task Marks_a_vmm_lost_once_and_a_heartbeat_brings_it_back()
    {
        var registry = CreateRegistry();
        await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start, CancellationToken.None);

        var lost = await registry.MarkLostAsync("vmm-a", Start, CancellationToken.None);
        var again = await registry.MarkLostAsync("vmm-a", Start, CancellationToken.None);
        var returned = await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start.AddSeconds(30), CancellationToken.None);

        Assert.NotNull(lost);
        Assert.True(lost.IsLost);
        Assert.Equal("vmm-a", lost.VmmId);
        Assert.Null(again);
        Assert.Equal(HeartbeatOutcome.Returned, returned);
        Assert.False((await registry.FindAsync("vmm-a", CancellationToken.None))?.IsLost);
    }

    [SkippableFact]
    public async Task A_heartbeat_that_arrived_after_the_check_keeps_the_vmm_live()
    {
        var registry = CreateRegistry();
        await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start, CancellationToken.None);
        await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start.AddSeconds(2), CancellationToken.None);

        // The liveness check judged the heartbeat seen at Start; a newer one has arrived since.
        var lost = await registry.MarkLostAsync("vmm-a", Start, CancellationToken.None);

        Assert.Null(lost);
        Assert.Single(await registry.ListLiveAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task The_same_instant_at_another_offset_is_the_same_heartbeat()
    {
        var registry = CreateRegistry();
        await registry.RecordHeartbeatAsync(Heartbeat("vmm-a"), Start, CancellationToken.None);

        var lost = await registry.MarkLostAsync("vmm-a", Start.ToOffset(TimeSpan.FromHours(2)), CancellationToken.None);

        Assert.NotNull(lost);
    }

    [SkippableFact]
    public async Task An_unknown_vmm_is_not_found_and_not_marked()
    {
        var registry = CreateRegistry();

        Assert.Null(await registry.FindAsync("vmm-x", CancellationToken.None));
        Assert.Null(await registry.MarkLostAsync("vmm-x", Start, CancellationToken.None));
        Assert.Empty(await registry.ListAsync(CancellationToken.None));
    }

    protected static VmmHeartbeat Heartbeat(string vmmId, string location = "site-1/pod-1/rack-1") =>
        new(vmmId, $"http://{vmmId}:5100", location, [$"{vmmId}-vm-1", $"{vmmId}-vm-2"], Start.AddYears(-1), TimeSpan.FromSeconds(2),
        [
            new VmSummary($"{vmmId}-vm-1", VmState.Paused, 64L << 20, new string('a', 64), "52:54:00:12:34:56"),
            new VmSummary($"{vmmId}-vm-2", VmState.Running, 32L << 20, null, "52:54:00:12:34:57"),
        ]);
}
