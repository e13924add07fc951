using Treecast.Agent.Tests.Support;
using Treecast.Contracts;
using Xunit.Abstractions;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A relay dies mid-transfer: its children report their parent unreachable, and a newer tree (as topology repairs it)
/// gives them the root as parent; they finish from the bytes they hold.
/// </summary>
public sealed class When_a_relay_dies_and_a_newer_tree_gives_its_children_another_parent(ITestOutputHelper output)
{
    private const int ChunkSize = 64 * 1024;
    private const long ImageBytes = 96L * ChunkSize;

    [Fact]
    public async Task Should_finish_every_child_from_the_offsets_it_held_with_identical_bytes()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", ImageBytes)]);
        await cluster.AddAsync("relay", "root");
        var left = await cluster.AddAsync("left", "relay");
        var right = await cluster.AddAsync("right", "relay");
        // The root reads slowly: the relay and its children hold part of the image for a while.
        root.Vmm.WrapImage = s => new CountingStream(s, _ => { }, TimeSpan.FromMilliseconds(20));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, ChunkSize);
        Assert.True(left.Engine.TryGetReceiver(operationId, out var atLeft));
        Assert.True(right.Engine.TryGetReceiver(operationId, out var atRight));

        Assert.True(root.Engine.StartTransfer(operationId));
        await Poll.UntilAsync(
            () => atLeft.BytesReceived >= ImageBytes / 2 && atRight.BytesReceived >= ImageBytes / 2,
            "both children hold half the image",
            TimeSpan.FromMinutes(2));
        await cluster.StopAsync("relay");

        var unreachable = new Dictionary<string, ParentUnreachable>();
        foreach (var child in new[] { "left", "right" })
        {
            unreachable[child] = await cluster.Events.WaitForAsync<ParentUnreachable>(
                u => u.OperationId == operationId && u.VmmId == child, TimeSpan.FromMinutes(2));
            Assert.Equal("relay", unreachable[child].ParentVmmId);
            Assert.True(unreachable[child].BytesHeld >= ImageBytes / 2, $"{child} reported {unreachable[child].BytesHeld} bytes held");
            Assert.Contains("relay", unreachable[child].Reason, StringComparison.Ordinal);
        }

        cluster.Announce(operationId, cluster.Tree(2, ("root", null), ("left", "root"), ("right", "root")), ChunkSize);

        foreach (var child in new[] { left, right })
        {
            await cluster.WaitForReceivedAsync(operationId, child.VmmId, TimeSpan.FromMinutes(2));
            Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(child.Vmm.ImagePath("root-vm-0")));

            // The root sent only what the child was missing, not the image again.
            var sent = root.Engine.BytesSentTo(operationId, child.VmmId);
            var missing = ImageBytes - unreachable[child.VmmId].BytesHeld;
            output.WriteLine($"{child.VmmId}: held {unreachable[child.VmmId].BytesHeld} of {ImageBytes} bytes when its parent died; the new parent sent {sent}");
            Assert.True(sent <= missing, $"the root sent {child.VmmId} {sent} bytes; it was missing {missing} of {ImageBytes}");
            Assert.True(sent <= ImageBytes / 2, $"the root sent {child.VmmId} {sent} bytes of a {ImageBytes}-byte image");
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_stop_the_streams_of_an_agent_the_newer_tree_leaves_out_and_keep_its_files()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", ImageBytes)]);
        var relay = await cluster.AddAsync("relay", "root");
        var leaf = await cluster.AddAsync("leaf", "relay");
        root.Vmm.WrapImage = s => new CountingStream(s, _ => { }, TimeSpan.FromMilliseconds(20));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, ChunkSize);
        Assert.True(relay.Engine.TryGetReceiver(operationId, out var atRelay));

        Assert.True(root.Engine.StartTransfer(operationId));
        await Poll.UntilAsync(() => atRelay.BytesReceived >= ImageBytes / 4, "the relay holds a quarter of the image", TimeSpan.FromMinutes(2));
        cluster.Announce(operationId, cluster.Tree(2, ("root", null), ("leaf", "root")), ChunkSize);

        await cluster.WaitForReceivedAsync(operationId, "leaf", TimeSpan.FromMinutes(2));
        Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(leaf.Vmm.ImagePath("root-vm-0")));
        await root.Engine.ForwardingCompletion(operationId).WaitAsync(TimeSpan.FromMinutes(1));
        await relay.Engine.ForwardingCompletion(operationId).WaitAsync(TimeSpan.FromMinutes(1));

        var held = atRelay.BytesReceived;
        Assert.True(held < ImageBytes, "the relay, left out, still received everything");
        Assert.Null(atRelay.FailureReason);
        Assert.Equal(held, new FileInfo(atRelay.Spools[0].Path).Length);
        Assert.Empty(relay.Vmm.Adopted);
        Assert.Empty(cluster.Events.All<OperationStepFailed>());
        Assert.DoesNotContain(cluster.Events.All<VmsReceived>(), r => r.VmmId == "relay");
    }
}
