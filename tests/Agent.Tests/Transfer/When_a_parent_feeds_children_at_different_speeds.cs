using Grpc.AspNetCore.Server;
using Treecast.Agent.Tests.Support;
using Treecast.Agent.Transfer;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A parent serves its children fairly: the forwarder to a child that takes bytes faster stays within a window of its
/// slower sibling instead of taking the uplink, and a child that stops receiving holds its sibling back only until the
/// child grace period gives it up.
/// </summary>
public sealed class When_a_parent_feeds_children_at_different_speeds
{
    private const int ChunkSize = 256 * 1024;
    private const string VmId = "root-vm-0";

    [Fact]
    public async Task Should_keep_the_faster_child_within_the_window_of_the_slower_one()
    {
        const long imageBytes = 64L * 1024 * 1024;
        await using var cluster = new TransferCluster(plaintext: true);
        var root = await cluster.AddAsync("root", null, [(VmId, imageBytes)]);
        await cluster.AddAsync("fast", "root");
        await cluster.AddAsync("slow", "root", configureGrpc: SlowReads);
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, ChunkSize);

        Assert.True(root.Engine.StartTransfer(operationId));
        var received = Task.WhenAll(cluster.WaitForReceivedAsync(operationId, "fast", TimeSpan.FromMinutes(3)), cluster.WaitForReceivedAsync(operationId, "slow", TimeSpan.FromMinutes(3)));
        long largestLead = 0;
        while (!received.IsCompleted)
        {
            // The faster one read first: the slower one can only have gone further by the time it is read.
            var fast = root.Engine.BytesSentTo(operationId, "fast");
            largestLead = Math.Max(largestLead, fast < imageBytes ? fast - root.Engine.BytesSentTo(operationId, "slow") : 0);
            await Task.Delay(2);
        }

        await received;
        Assert.True(largestLead <= SiblingPace.DefaultWindowBytes + ChunkSize, $"the faster child led by {largestLead} bytes, the window is {SiblingPace.DefaultWindowBytes}");
        foreach (var child in new[] { "fast", "slow" })
        {
            Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(cluster[child].Vmm.ImagePath(VmId)));
        }
    }

    [Fact]
    public async Task Should_let_the_sibling_of_a_child_that_stopped_finish_once_that_child_is_given_up()
    {
        const long imageBytes = 32L * 1024 * 1024;
        await using var cluster = new TransferCluster(plaintext: true);
        var root = await cluster.AddAsync("root", null, [(VmId, imageBytes)], tune: s => s with { ChildGracePeriod = TimeSpan.FromSeconds(2) });
        var healthy = await cluster.AddAsync("healthy", "root");
        await cluster.AddAsync("gone", "root", configureGrpc: SlowReads);
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, ChunkSize);

        Assert.True(root.Engine.StartTransfer(operationId));
        await Poll.UntilAsync(() => root.Engine.BytesSentTo(operationId, "gone") >= 4 * ChunkSize, "the root sent gone a few chunks", TimeSpan.FromMinutes(1));
        await cluster.StopAsync("gone");

        await cluster.WaitForReceivedAsync(operationId, "healthy", TimeSpan.FromMinutes(2));
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(healthy.Vmm.ImagePath(VmId)));
        var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId, TimeSpan.FromMinutes(1));
        Assert.Equal("gone", failed.VmmId);
        Assert.Equal(OperationStep.Relay, failed.Step);
    }

    // About 16 MiB/s: far slower than a loopback stream, fast enough for a short test.
    private static void SlowReads(GrpcServiceOptions options) =>
        options.Interceptors.Add<SlowReadInterceptor>(TimeSpan.FromMilliseconds(15));
}
