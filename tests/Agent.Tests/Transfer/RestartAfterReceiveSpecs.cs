using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>An agent restarts after its receive completed: the VMM takes its copies back, and asked again it reports them.</summary>
public sealed class When_an_agent_restarts_after_its_receive_completed
{
    [Fact]
    public async Task Should_hold_its_copies_again_and_report_them_when_the_transfer_starts_again()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 300_000), ("root-vm-1", 123_457)]);
        await cluster.AddAsync("child", "root");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId);
        Assert.True(root.Engine.StartTransfer(operationId));
        await cluster.WaitForReceivedAsync(operationId, "child");
        await root.Engine.ForwardingCompletion(operationId).WaitAsync(TimeSpan.FromMinutes(1));
        await cluster.StopAsync("child");

        var child = await cluster.RestartAsync("child");

        Assert.True(child.Engine.TryGetReceiver(operationId, out var reloaded));
        Assert.True(reloaded.Received.IsCompletedSuccessfully);
        Assert.Equal(
            root.Vmm.Images.Select(i => (i.VmId, i.Sha256)).Order(),
            child.Vmm.Vms.Select(v => (v.VmId, v.Sha256!)).Order());
        Assert.Empty(cluster.Events.All<ReceiveResumed>());

        // Asked again (a saga that restarted): the root's transfer starts again and the child reports its copies again.
        Assert.True(root.Engine.StartTransfer(operationId));
        await Poll.UntilAsync(
            () => cluster.Events.All<VmsReceived>().Count(r => r.OperationId == operationId && r.VmmId == "child") == 2,
            "the child reported its copies again",
            TimeSpan.FromMinutes(1));
        foreach (var image in root.Vmm.Images)
        {
            Assert.Equal(image.Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath(image.VmId)));
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }
}
