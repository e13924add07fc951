using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Treecast.Agent.Tests.Hosting;
using Treecast.Agent.Tests.Support;
using Treecast.Agent.Vmm;
using Treecast.Agent.Vmm.Qemu;
using Treecast.Contracts;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Qemu;

/// <summary>
/// Agents with real QEMU VMMs on the in-memory bus, driven through a broadcast step by step as the saga would:
/// the root (vmm-a) runs two counter guests and feeds vmm-b and vmm-c; vmm-b relays to vmm-d.
/// </summary>
[Collection(QemuCollection.Name)]
public sealed class QemuBroadcastSpecs(QemuFixture qemu, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);
    private static readonly string[] Receivers = ["vmm-b", "vmm-c", "vmm-d"];

    // Short, so the QEMUs of an agent can be told apart by their socket paths (see KilledMidStreamVmm).
    private readonly string _workRoot = Path.Combine(Path.GetTempPath(), $"tqb-{Guid.NewGuid():N}"[..12]);
    private AgentCluster? _cluster;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        try
        {
            if (Directory.Exists(_workRoot))
            {
                Directory.Delete(_workRoot, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover temp directory must not fail a test.
        }

        if (qemu.SkipReason is null)
        {
            Assert.Empty(QemuFixture.QemuProcesses(qemu.Marker));
        }
    }

    [SkippableFact]
    public async Task Should_leave_every_copy_paused_at_the_roots_count_then_running_past_it()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);

        // The production wiring: Agent:Vmm picks the QEMU driver, Agent:Qemu defines its VMs.
        var cluster = await StartAsync(builder => builder.Configuration["Agent:Qemu:BootImage"] = qemu.BootImage);
        var operationId = Guid.NewGuid();
        var paused = await PauseAndAnnounceAsync(cluster, operationId);
        var root = (QemuVmm)cluster.Agents["vmm-a"].Vmm;
        var counts = new Dictionary<string, long>();
        foreach (var vm in paused.Vms)
        {
            counts[vm.VmId] = (await root.ReadCounterAsync(vm.VmId, CancellationToken.None))!.Counter;
            Assert.Equal(counts[vm.VmId], root.Vms.Single(v => v.VmId == vm.VmId).WorkloadProgress);
        }

        output.WriteLine($"root paused at {string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"))}");
        await TransferAsync(cluster, operationId);

        // Announced while QEMU still wrote the streams; the digests came when they ended, and the copies carry them.
        Assert.All(paused.Vms, vm => Assert.False(vm.IsSealed));
        var sealedImages = await cluster.Events.WaitForAsync<VmImagesSealed>(s => s.OperationId == operationId, Generous);
        Assert.Equal(paused.Vms.Select(v => v.VmId), sealedImages.Vms.Select(v => v.VmId));
        Assert.All(sealedImages.Vms, vm => Assert.Equal(root.Vms.Single(v => v.VmId == vm.VmId).Sha256, vm.Sha256));
        foreach (var vmmId in Receivers)
        {
            var received = await cluster.Events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == vmmId, Generous);
            Assert.Equal(sealedImages.Vms.Select(v => (v.VmId, v.Sha256)).Order(), received.Vms.Select(v => (v.VmId, v.Sha256)).Order());
            var copies = (QemuVmm)cluster.Agents[vmmId].Vmm;
            Assert.Equal(paused.Vms.Select(v => v.VmId).Order(), copies.Vms.Select(v => v.VmId).Order());
            foreach (var copy in copies.Vms)
            {
                Assert.Equal(VmState.Paused, copy.State);
                Assert.Equal(counts[copy.VmId], (await copies.ReadCounterAsync(copy.VmId, CancellationToken.None))!.Counter);
            }
        }

        foreach (var vmmId in Receivers.Prepend("vmm-a"))
        {
            await cluster.SendAsync(vmmId, new ResumeVms(operationId, vmmId, IsRoot: vmmId == "vmm-a"));
        }

        foreach (var vmmId in Receivers.Prepend("vmm-a"))
        {
            var resumed = await cluster.Events.WaitForAsync<VmsResumed>(r => r.OperationId == operationId && r.VmmId == vmmId, Generous);
            Assert.All(resumed.Vms, copy => Assert.Equal(VmState.Running, copy.State));
            var vmm = (QemuVmm)cluster.Agents[vmmId].Vmm;
            Assert.All(vmm.Vms, vm => Assert.Equal(VmState.Running, vm.State));
            foreach (var vm in vmm.Vms)
            {
                await PollCounterAsync(vmm, vm.VmId, counter => counter > counts[vm.VmId], $"{vm.VmId} on {vmmId} counts past {counts[vm.VmId]}");
            }
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }

    [SkippableFact]
    public async Task Should_fail_only_the_vmm_whose_receiving_qemu_is_killed_mid_stream()
    {
        Skip.If(qemu.SkipReason is not null, qemu.SkipReason);
        var options = new QemuOptions { BootImage = qemu.BootImage };
        var cluster = await StartAsync(builder => builder.Services.AddSingleton<IVmmFactory>(sp =>
            new QemuClusterVmmFactory(options, sp.GetRequiredService<ILoggerFactory>(), killedVmmId: "vmm-c")));
        var operationId = Guid.NewGuid();
        var paused = await PauseAndAnnounceAsync(cluster, operationId);

        await TransferAsync(cluster, operationId);

        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId && f.Step == OperationStep.Receive, Generous);
        output.WriteLine($"{failed.Step} failed on {failed.VmmId}: {failed.Reason}");
        Assert.Equal("vmm-c", failed.VmmId);
        Assert.Contains($"VM {paused.Vms[0].VmId} on vmm-c", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("did not load", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("killed by signal 9", failed.Reason, StringComparison.Ordinal);
        var sealedImages = await cluster.Events.WaitForAsync<VmImagesSealed>(s => s.OperationId == operationId, Generous);
        foreach (var vmmId in new[] { "vmm-b", "vmm-d" })
        {
            var received = await cluster.Events.WaitForAsync<VmsReceived>(r => r.OperationId == operationId && r.VmmId == vmmId, Generous);
            Assert.Equal(sealedImages.Vms.Select(v => (v.VmId, v.Sha256)).Order(), received.Vms.Select(v => (v.VmId, v.Sha256)).Order());
            Assert.All(cluster.Agents[vmmId].Vmm.Vms, vm => Assert.Equal(VmState.Paused, vm.State));
        }

        var killed = (KilledMidStreamVmm)cluster.Agents["vmm-c"].Vmm;
        Assert.Single(killed.Killed);
        Assert.Empty(killed.Vms);
        Assert.Empty(killed.IncomingQemus());
        Assert.DoesNotContain(cluster.Events.All<VmsReceived>(), r => r.VmmId == "vmm-c");

        // The root's push to vmm-c ends with vmm-c's refusal, reported against vmm-c too; no other VMM failed.
        Assert.All(cluster.Events.All<OperationStepFailed>(), f => Assert.Equal("vmm-c", f.VmmId));
    }

    private async Task<AgentCluster> StartAsync(Action<IHostApplicationBuilder> configure)
    {
        var hosts = new[] { "vmm-a" }.Concat(Receivers).Select(id => new AgentOptions
        {
            VmmId = id,
            Vmm = "qemu",
            Location = "site-a/pod-1/rack-1",
            VmCount = id == "vmm-a" ? 2 : 0,
            WorkDirectory = Path.Combine(_workRoot, id),
            HeartbeatInterval = TimeSpan.FromSeconds(1),
        }).ToArray();
        _cluster = await AgentCluster.StartAsync(hosts, builder =>
        {
            builder.Logging.AddProvider(new TestOutputLoggerProvider(output));
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            configure(builder);
        });
        return _cluster;
    }

    /// <summary>Starts a workload in the root's guests, lets them count, pauses them, and has every receiver ready.</summary>
    private static async Task<VmsPaused> PauseAndAnnounceAsync(AgentCluster cluster, Guid operationId)
    {
        var agents = cluster.Agents;
        var root = (QemuVmm)agents["vmm-a"].Vmm;
        await root.Ready.WaitAsync(Generous);
        await cluster.SendAsync("vmm-a", new StartWorkload("workload-e2e", "vmm-a", TimeSpan.FromMinutes(10)));
        await cluster.Events.WaitForAsync<WorkloadStarted>(w => w.WorkloadId == "workload-e2e", Generous);
        await Poll.UntilAsync(() => root.Vms.All(v => v.WorkloadProgress >= 20), "both root guests count", Generous);

        await cluster.SendAsync("vmm-a", new PauseVms(operationId, "vmm-a"));
        var paused = await cluster.Events.WaitForAsync<VmsPaused>(p => p.OperationId == operationId, Generous);
        Assert.Equal(2, paused.Vms.Count);
        var tree = new VmmTree(1, "vmm-a", 2,
        [
            new TreeNode("vmm-a", null, "site-a/pod-1/rack-1", agents["vmm-a"].GrpcEndpoint),
            new TreeNode("vmm-b", "vmm-a", "site-a/pod-1/rack-1", agents["vmm-b"].GrpcEndpoint),
            new TreeNode("vmm-c", "vmm-a", "site-a/pod-1/rack-1", agents["vmm-c"].GrpcEndpoint),
            new TreeNode("vmm-d", "vmm-b", "site-a/pod-1/rack-1", agents["vmm-d"].GrpcEndpoint),
        ]);
        await cluster.SendAsync("vmm-a", new AnnouncePendingTransfer(operationId, "vmm-a", tree, paused.Vms, 64 * 1024, BroadcastMode.Duplicate));
        foreach (var vmmId in Receivers)
        {
            await cluster.Events.WaitForAsync<ReadyToReceive>(r => r.OperationId == operationId && r.VmmId == vmmId, Generous);
        }

        return paused;
    }

    private static Task TransferAsync(AgentCluster cluster, Guid operationId) =>
        cluster.SendAsync("vmm-a", new StartTransfer(operationId, "vmm-a"));

    private static async Task PollCounterAsync(QemuVmm vmm, string vmId, Func<long, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!(await vmm.ReadCounterAsync(vmId, CancellationToken.None) is { } reading && condition(reading.Counter)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(50);
        }
    }
}
