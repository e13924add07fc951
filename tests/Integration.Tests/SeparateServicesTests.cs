using Treecast.Contracts;
using Treecast.Integration.Tests.Processes;
using Treecast.TestSupport.Processes;

namespace Treecast.Integration.Tests;

/// <summary>
/// The four services as separate processes on RabbitMQ, driven only by plain JSON on the external exchange,
/// as a monitoring system would drive them.
/// </summary>
public sealed class When_external_json_events_reach_the_separate_services(SeparateServicesFleet fleet) : IClassFixture<SeparateServicesFleet>
{
    [SkippableFact]
    public async Task Should_complete_a_broadcast_and_a_duplication()
    {
        fleet.Require();

        await fleet.PublishExternalJsonAsync($$"""
            {"type":"host.degraded","eventId":"{{Guid.NewGuid()}}","vmm":"host-01","severity":"critical"}
            """);
        var broadcast = await fleet.NextOutcomeAsync("host-01", BroadcastMode.Broadcast, TimeSpan.FromMinutes(3));

        Assert.True(broadcast.State == OperationFinalState.Completed, $"{broadcast.State}: {broadcast.FailureReason}\n{fleet.Logs()}");
        Assert.Equal(2, broadcast.Vms.Count);
        Assert.Equal(SeparateServicesFleet.Agents.Order(), broadcast.Hosts.Select(h => h.VmmId).Order());
        foreach (var host in broadcast.Hosts)
        {
            foreach (var vm in broadcast.Vms)
            {
                var copy = Assert.Single(host.Vms, c => c.VmId == vm.VmId);
                Assert.Equal(vm.Sha256, copy.Sha256);
                Assert.Equal(VmState.Paused, copy.State);
            }
        }

        // The deadline policy gives the workload 2 s; nothing completes it, so duplication must run.
        await fleet.PublishExternalJsonAsync("""
            {"type":"workload.started","vmm":"host-01","workloadId":"wl-straggler"}
            """);
        var duplicate = await fleet.NextOutcomeAsync("host-01", BroadcastMode.Duplicate, TimeSpan.FromMinutes(3));

        Assert.True(duplicate.State == OperationFinalState.Duplicated, $"{duplicate.State}: {duplicate.FailureReason}\n{fleet.Logs()}");
        Assert.Equal(SeparateServicesFleet.Agents.Order(), duplicate.Hosts.Select(h => h.VmmId).Order());
        var rootMacs = duplicate.Hosts.Single(h => h.VmmId == "host-01").Vms.Select(v => v.MacAddress).ToHashSet();
        foreach (var host in duplicate.Hosts)
        {
            Assert.Equal(2, host.Vms.Count);
            Assert.All(host.Vms, c => Assert.Equal(VmState.Running, c.State));
            if (host.VmmId != "host-01")
            {
                Assert.All(host.Vms, c => Assert.DoesNotContain(c.MacAddress, rootMacs));
            }
        }
    }
}
