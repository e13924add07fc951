using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

public sealed class ChunkRelayTests
{
    [Theory]
    [InlineData(64 * 1024)]
    [InlineData(1024 * 1024)]
    public async Task Relay_delivers_byte_identical_images_down_the_tree(int chunkSize)
    {
        await using var cluster = new TransferCluster();
        long[] sizes = [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, (3 * chunkSize) + 12345];
        var root = await cluster.AddAsync("root", null, sizes.Select((bytes, i) => ($"root-vm-{i}", bytes)));
        await cluster.AddAsync("child", "root");
        await cluster.AddAsync("grandchild", "child");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, chunkSize);

        Assert.True(root.Engine.StartTransfer(operationId));
        var received = new[]
        {
            await cluster.WaitForReceivedAsync(operationId, "child"),
            await cluster.WaitForReceivedAsync(operationId, "grandchild"),
        };

        foreach (var report in received)
        {
            var agent = cluster[report.VmmId];
            Assert.Equal(root.Vmm.Images.Select(i => i.VmId), report.Vms.Select(v => v.VmId));
            foreach (var image in root.Vmm.Images)
            {
                Assert.Equal(image.Sha256, FileVmm.Sha256Of(agent.Vmm.ImagePath(image.VmId)));
                Assert.Equal(image.Bytes, new FileInfo(agent.Vmm.ImagePath(image.VmId)).Length);
            }
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
        await root.Engine.ForwardingCompletion(operationId);
    }

    [Fact]
    public async Task Grandchild_receives_bytes_before_the_child_has_finished_receiving()
    {
        await using var cluster = new TransferCluster();
        const long imageBytes = 4 * 1024 * 1024;
        var root = await cluster.AddAsync("root", null, [("root-vm-0", imageBytes)]);
        var child = await cluster.AddAsync("child", "root");
        var grandchild = await cluster.AddAsync("grandchild", "child");
        // The root reads its image slowly, so the child's receive lasts about two seconds.
        root.Vmm.WrapImage = s => new CountingStream(s, _ => { }, TimeSpan.FromMilliseconds(30));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, 64 * 1024);
        Assert.True(child.Engine.TryGetReceiver(operationId, out var atChild));
        Assert.True(grandchild.Engine.TryGetReceiver(operationId, out var atGrandchild));

        root.Engine.StartTransfer(operationId);
        await Poll.UntilAsync(() => atGrandchild.BytesReceived > 0, "the grandchild holds some bytes");
        var childHeld = atChild.BytesReceived;

        Assert.True(childHeld < imageBytes, $"the child already held all {childHeld} bytes: the relay did not pipeline");
        Assert.False(atChild.Received.IsCompleted);
        await cluster.WaitForReceivedAsync(operationId, "grandchild");
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(grandchild.Vmm.ImagePath("root-vm-0")));
    }

    [Fact]
    public async Task A_slow_child_does_not_stall_its_sibling()
    {
        await using var cluster = new TransferCluster();
        const long imageBytes = 40L * 1024 * 1024;
        var root = await cluster.AddAsync("root", null, [("root-vm-0", imageBytes)]);
        await cluster.AddAsync("relay", "root");
        var slow = await cluster.AddAsync("slow", "relay", configureGrpc: o => o.Interceptors.Add<SlowReadInterceptor>(TimeSpan.FromMilliseconds(100)));
        var fast = await cluster.AddAsync("fast", "relay");
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, 1024 * 1024);
        Assert.True(slow.Engine.TryGetReceiver(operationId, out var atSlow));

        root.Engine.StartTransfer(operationId);
        await cluster.WaitForReceivedAsync(operationId, "fast");

        // 40 chunks read 100 ms apart: the slow child needs at least 4 s; its sibling did not wait for it.
        Assert.False(atSlow.Received.IsCompleted, "the slow child finished first: the test did not slow it down");
        Assert.True(atSlow.BytesReceived < imageBytes);
        await cluster.WaitForReceivedAsync(operationId, "slow", TimeSpan.FromSeconds(60));
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(fast.Vmm.ImagePath("root-vm-0")));
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(slow.Vmm.ImagePath("root-vm-0")));
    }

    [Fact]
    public async Task Two_operations_to_the_same_children_run_side_by_side()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 300_000), ("root-vm-1", 123_457)]);
        await cluster.AddAsync("left", "root");
        await cluster.AddAsync("right", "root");
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        cluster.Announce(first);
        cluster.Announce(second);

        root.Engine.StartTransfer(first);
        root.Engine.StartTransfer(second);

        foreach (var operationId in new[] { first, second })
        {
            foreach (var vmmId in new[] { "left", "right" })
            {
                var received = await cluster.WaitForReceivedAsync(operationId, vmmId);
                Assert.Equal(2, received.Vms.Count);
            }
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }
}
