using System.Security.Cryptography;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Hosting;

public sealed class AgentHostTests
{
    [Fact]
    public async Task Pausing_reports_every_vm_with_its_size_and_sha256()
    {
        await using var cluster = await AgentCluster.StartAsync("vmm-a");
        var operationId = Guid.NewGuid();

        await cluster.SendAsync("vmm-a", new PauseVms(operationId, "vmm-a"));
        var paused = await cluster.Events.WaitForAsync<VmsPaused>(p => p.OperationId == operationId);

        var vmm = cluster.Agents["vmm-a"].Vmm;
        Assert.Equal(["vmm-a-vm-1", "vmm-a-vm-2"], paused.Vms.Select(v => v.VmId).Order());
        Assert.All(vmm.Vms, vm => Assert.Equal(VmState.Paused, vm.State));
        foreach (var image in paused.Vms)
        {
            Assert.Equal(1024 * 1024, image.Bytes);
            await using var stream = vmm.OpenImage(image.VmId);
            Assert.Equal(image.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
        }
    }

    [Fact]
    public async Task Every_agent_sends_heartbeats_with_its_endpoint_location_and_vms()
    {
        await using var cluster = await AgentCluster.StartAsync("vmm-a", "vmm-b");

        foreach (var agent in cluster.Agents.Hosts)
        {
            var heartbeat = await cluster.Events.WaitForAsync<VmmHeartbeat>(h => h.VmmId == agent.VmmId);
            Assert.Equal(agent.GrpcEndpoint, heartbeat.GrpcEndpoint);
            Assert.StartsWith("https://127.0.0.1:", heartbeat.GrpcEndpoint);
            Assert.Equal("site-a/pod-1/rack-1", heartbeat.Location);
            Assert.Equal(2, heartbeat.VmIds.Count);
        }
    }

    [Fact]
    public async Task A_duplicate_broadcast_leaves_running_copies_with_new_macs_on_every_vmm()
    {
        await using var cluster = await AgentCluster.StartAsync("vmm-a", "vmm-b", "vmm-c", "vmm-d");
        var agents = cluster.Agents;
        var tree = new VmmTree(7, "vmm-a", 2,
        [
            new TreeNode("vmm-a", null, "site-a/pod-1/rack-1", agents["vmm-a"].GrpcEndpoint),
            new TreeNode("vmm-b", "vmm-a", "site-a/pod-1/rack-1", agents["vmm-b"].GrpcEndpoint),
            new TreeNode("vmm-c", "vmm-a", "site-a/pod-1/rack-1", agents["vmm-c"].GrpcEndpoint),
            new TreeNode("vmm-d", "vmm-b", "site-a/pod-1/rack-1", agents["vmm-d"].GrpcEndpoint),
        ]);
        string[] receivers = ["vmm-b", "vmm-c", "vmm-d"];
        var operationId = Guid.NewGuid();

        await cluster.SendAsync("vmm-a", new PauseVms(operationId, "vmm-a"));
        var paused = await cluster.Events.WaitForAsync<VmsPaused>(p => p.OperationId == operationId);
        await cluster.SendAsync("vmm-a", new AnnouncePendingTransfer(operationId, "vmm-a", tree, paused.Vms, 256 * 1024, BroadcastMode.Duplicate));
        foreach (var vmmId in receivers)
        {
            await cluster.Events.WaitForAsync<ReadyToReceive>(r => r.OperationId == operationId && r.VmmId == vmmId);
        }

        await cluster.SendAsync("vmm-a", new StartTransfer(operationId, "vmm-a"));
        foreach (var vmmId in receivers)
        {
            var received = await cluster.Events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == vmmId);
            Assert.Equal(paused.Vms.Select(v => (v.VmId, v.Sha256)).Order(), received.Vms.Select(v => (v.VmId, v.Sha256)).Order());
        }

        foreach (var vmmId in new[] { "vmm-a" }.Concat(receivers))
        {
            await cluster.SendAsync(vmmId, new ResumeVms(operationId, vmmId, IsRoot: vmmId == "vmm-a"));
        }

        var rootResumed = await cluster.Events.WaitForAsync<VmsResumed>(r => r.OperationId == operationId && r.VmmId == "vmm-a");
        var rootMacs = rootResumed.Vms.Select(v => v.MacAddress).ToHashSet();
        foreach (var vmmId in receivers)
        {
            var resumed = await cluster.Events.WaitForAsync<VmsResumed>(r => r.OperationId == operationId && r.VmmId == vmmId);
            Assert.Equal(paused.Vms.Select(v => v.VmId).Order(), resumed.Vms.Select(v => v.VmId).Order());
            Assert.All(resumed.Vms, copy =>
            {
                Assert.Equal(VmState.Running, copy.State);
                Assert.NotNull(copy.MacAddress);
                Assert.DoesNotContain(copy.MacAddress, rootMacs);
                Assert.Equal(paused.Vms.Single(v => v.VmId == copy.VmId).Sha256, copy.Sha256);
            });
            Assert.All(agents[vmmId].Vmm.Vms.Where(v => v.VmId.StartsWith("vmm-a-", StringComparison.Ordinal)), vm => Assert.Equal(VmState.Running, vm.State));
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
        Assert.NotEmpty(cluster.Events.All<TransferProgressed>());
    }

    [Fact]
    public async Task A_workload_reports_started_and_completed()
    {
        await using var cluster = await AgentCluster.StartAsync("vmm-a");

        await cluster.SendAsync("vmm-a", new StartWorkload("job-1", "vmm-a", TimeSpan.FromMilliseconds(100)));

        await cluster.Events.WaitForAsync<WorkloadStarted>(w => w.WorkloadId == "job-1" && w.VmmId == "vmm-a");
        await cluster.Events.WaitForAsync<WorkloadCompleted>(w => w.WorkloadId == "job-1" && w.VmmId == "vmm-a");
    }

    [Fact]
    public async Task Starting_a_transfer_that_was_never_announced_reports_a_failed_step()
    {
        await using var cluster = await AgentCluster.StartAsync("vmm-a");
        var operationId = Guid.NewGuid();

        await cluster.SendAsync("vmm-a", new StartTransfer(operationId, "vmm-a"));

        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId);
        Assert.Equal(OperationStep.Relay, failed.Step);
        Assert.Contains("never announced", failed.Reason);
    }
}
