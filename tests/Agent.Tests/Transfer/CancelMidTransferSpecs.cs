using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>An operation ends while a child is still receiving: its streams stop and its partial copy goes.</summary>
public sealed class When_an_operation_ends_mid_transfer
{
    private const int ChunkSize = 64 * 1024;
    private const long ImageBytes = 64L * ChunkSize;

    [Fact]
    public async Task Should_stop_the_streams_and_delete_the_partial_copy_but_keep_verified_ones()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", ImageBytes)]);
        var done = await cluster.AddAsync("done", "root");
        var partial = await cluster.AddAsync("partial", "root", configureGrpc: o => o.Interceptors.Add<SlowReadInterceptor>(TimeSpan.FromMilliseconds(50)));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, ChunkSize);
        Assert.True(partial.Engine.TryGetReceiver(operationId, out var atPartial));
        var spools = atPartial.Directory;

        Assert.True(root.Engine.StartTransfer(operationId));
        await cluster.WaitForReceivedAsync(operationId, "done", TimeSpan.FromMinutes(2));
        await Poll.UntilAsync(() => atPartial.BytesReceived > 0, "the slow child holds some bytes", TimeSpan.FromMinutes(1));
        Assert.False(atPartial.Received.IsCompleted, "the slow child finished first: the test did not slow it down");

        // As on BroadcastOperationFinished (CompletedWithFailures): every agent of the tree lets go of the operation.
        foreach (var agent in new[] { root, done, partial })
        {
            Assert.Empty(await agent.Engine.EndAsync(operationId, discardCopies: false, "the operation ended", CancellationToken.None));
        }

        Assert.False(Directory.Exists(spools), "the partial copy's spools are still there");
        Assert.False(partial.Engine.TryGetReceiver(operationId, out _));
        Assert.Empty(partial.Vmm.Adopted);
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(done.Vmm.ImagePath("root-vm-0")));
        Assert.Contains(done.Vmm.Vms, vm => vm.VmId == "root-vm-0" && vm.Sha256 == root.Vmm.Images[0].Sha256);
        await root.Engine.ForwardingCompletion(operationId).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Empty(cluster.Events.All<OperationStepFailed>());

        // A late announcement of the ended operation prepares nothing.
        var late = cluster.Announce(operationId, cluster.Tree(2, ("root", null), ("done", "root"), ("partial", "root")), ChunkSize);
        Assert.Null(partial.Engine.Expect(late));
        Assert.False(Directory.Exists(spools));
    }
}
