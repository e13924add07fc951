using System.Text.Json;
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

        // The operator's command publishes the event as the monitoring account, the way the README shows.
        var published = await CliProcess.RunAsync(
            "event", "publish", "--type", "host.degraded", "--vmm", "host-01", "--severity", "critical", "--amqp", fleet.MonitoringUri.ToString());
        Assert.True(published.ExitCode == 0, published.Output + published.Error);
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

        // The same operation as the operator's command shows it, from the policy and topology services' HTTP APIs.
        var shown = await CliProcess.RunAsync("ops", "show", broadcast.OperationId.ToString(), "--json", "--policy-url", fleet.PolicyUrl.ToString());
        Assert.True(shown.ExitCode == 0, shown.Output + shown.Error);
        using (var operation = JsonDocument.Parse(shown.Output))
        {
            Assert.Equal("Completed", operation.RootElement.GetProperty("currentState").GetString());
            Assert.All(operation.RootElement.GetProperty("hosts").EnumerateArray(), h => Assert.True(h.GetProperty("verified").GetBoolean()));
        }

        var listed = await CliProcess.RunAsync("ops", "list", "--root", "host-01", "--json", "--policy-url", fleet.PolicyUrl.ToString());
        Assert.True(listed.ExitCode == 0, listed.Output + listed.Error);
        Assert.Contains(broadcast.OperationId.ToString(), listed.Output);
        // The registry, from the agents' heartbeats: every VMM, and (a heartbeat later) host-02's copies with the root's digests.
        var digests = broadcast.Vms.ToDictionary(v => v.VmId, v => v.Sha256);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var vmms = await CliProcess.RunAsync("vmms", "--json", "--topology-url", fleet.TopologyUrl.ToString());
            Assert.True(vmms.ExitCode == 0, vmms.Output + vmms.Error);
            using var registry = JsonDocument.Parse(vmms.Output);
            Assert.Equal(SeparateServicesFleet.Agents, registry.RootElement.EnumerateArray().Select(v => v.GetProperty("vmmId").GetString()).Order());
            var copies = registry.RootElement.EnumerateArray().Single(v => v.GetProperty("vmmId").GetString() == "host-02").GetProperty("vms");
            if (copies.ValueKind == JsonValueKind.Array && copies.GetArrayLength() == digests.Count
                && copies.EnumerateArray().All(c => c.GetProperty("state").GetString() == "Paused" && digests[c.GetProperty("vmId").GetString()!] == c.GetProperty("sha256").GetString()))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"host-02's heartbeats never showed its copies: {copies}");
        }

        // The Treecast meter counted the bytes: each receiver stored both images, the root relayed them.
        using (var http = new HttpClient())
        {
            var received = Counter(await http.GetStringAsync(new Uri(fleet.AgentUrl("host-02"), "/metrics")), "treecast_transfer_received_bytes_total", "host-02");
            var relayed = Counter(await http.GetStringAsync(new Uri(fleet.AgentUrl("host-01"), "/metrics")), "treecast_transfer_relayed_bytes_total", "host-01");
            Assert.True(received >= broadcast.Vms.Sum(v => v.Bytes), $"host-02 counted {received} bytes received");
            Assert.True(relayed >= broadcast.Vms.Sum(v => v.Bytes), $"host-01 counted {relayed} bytes relayed");
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

    /// <summary>The sum of a Prometheus counter's samples whose labels name <paramref name="vmm"/>.</summary>
    private static double Counter(string scrape, string name, string vmm) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains($"vmm=\"{vmm}\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
}
