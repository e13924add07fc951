using Treecast.Contracts;

namespace Treecast.Agent.Tests.Hosting;

/// <summary>
/// An operation whose copies were adopted (paused, never resumed) is cancelled: every VMM of the tree lets go of it and
/// the copies go, the root keeps its own VMs.
/// </summary>
public sealed class When_an_operation_is_cancelled : IAsyncLifetime
{
    private static readonly string[] Receivers = ["vmm-b", "vmm-c", "vmm-d"];
    private readonly Guid _operationId = Guid.NewGuid();
    private AgentCluster _cluster = null!;
    private VmsPaused _paused = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync("vmm-a", "vmm-b", "vmm-c", "vmm-d");
        _paused = await _cluster.BroadcastAsync(_operationId, ("vmm-b", "vmm-a"), ("vmm-c", "vmm-a"), ("vmm-d", "vmm-b"));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Should_discard_the_copies_never_resumed_and_delete_every_receive()
    {
        foreach (var vmmId in Receivers.Prepend("vmm-a"))
        {
            await _cluster.SendAsync(vmmId, new CancelTransfer(_operationId, vmmId));
        }

        var rootCancelled = await _cluster.Events.WaitForAsync<TransferCancelled>(c => c.OperationId == _operationId && c.VmmId == "vmm-a");
        Assert.Empty(rootCancelled.DiscardedVmIds);
        Assert.Equal(["vmm-a-vm-1", "vmm-a-vm-2"], _cluster.Agents["vmm-a"].Vmm.Vms.Select(v => v.VmId).Order());
        foreach (var vmmId in Receivers)
        {
            var cancelled = await _cluster.Events.WaitForAsync<TransferCancelled>(c => c.OperationId == _operationId && c.VmmId == vmmId);
            Assert.Equal(_paused.Vms.Select(v => v.VmId).Order(), cancelled.DiscardedVmIds.Order());
            var agent = _cluster.Agents[vmmId];
            Assert.DoesNotContain(agent.Vmm.Vms, vm => vm.VmId.StartsWith("vmm-a-", StringComparison.Ordinal));
            Assert.False(Directory.Exists(Path.Combine(agent.WorkDirectory, "receives", _operationId.ToString("N"))));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(agent.WorkDirectory, "vms"), "vmm-a-*"));
        }

        Assert.Empty(_cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_discard_the_copies_when_the_operation_is_reported_ended_cancelled()
    {
        await _cluster.Bus.Publish(new BroadcastOperationFinished(
            _operationId, BroadcastMode.Broadcast, OperationFinalState.Cancelled, "vmm-a", null, _paused.Vms, [],
            "cancelled by an operator", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));

        foreach (var vmmId in Receivers)
        {
            var agent = _cluster.Agents[vmmId];
            await Support.Poll.UntilAsync(
                () => !agent.Vmm.Vms.Any(vm => vm.VmId.StartsWith("vmm-a-", StringComparison.Ordinal))
                    && !Directory.Exists(Path.Combine(agent.WorkDirectory, "receives", _operationId.ToString("N"))),
                $"{vmmId} discarded its copies and deleted the receive",
                TimeSpan.FromMinutes(1));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(agent.WorkDirectory, "vms"), "vmm-a-*"));
        }

        Assert.Equal(2, _cluster.Agents["vmm-a"].Vmm.Vms.Count);
    }

    [Fact]
    public async Task Should_keep_verified_copies_when_the_operation_is_reported_completed()
    {
        await _cluster.Bus.Publish(new BroadcastOperationFinished(
            _operationId, BroadcastMode.Broadcast, OperationFinalState.Completed, "vmm-a", null, _paused.Vms, [],
            null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));

        foreach (var vmmId in Receivers)
        {
            var agent = _cluster.Agents[vmmId];
            await Support.Poll.UntilAsync(
                () => !Directory.Exists(Path.Combine(agent.WorkDirectory, "receives", _operationId.ToString("N"))),
                $"{vmmId} let go of the receive",
                TimeSpan.FromMinutes(1));
            Assert.Equal(
                _paused.Vms.Select(v => (v.VmId, v.Sha256)).Order(),
                agent.Vmm.Vms.Where(vm => vm.VmId.StartsWith("vmm-a-", StringComparison.Ordinal)).Select(vm => (vm.VmId, vm.Sha256!)).Order());
        }
    }
}
