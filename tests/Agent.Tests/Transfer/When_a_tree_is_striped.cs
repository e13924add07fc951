using Treecast.Agent.Tests.Support;
using Treecast.Agent.Transfer.Striping;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A striped tree (two stripe trees over the same agents): each stripe of every image travels down its own tree as a
/// stream of its own, every receiver assembles the images from their stripes and checks them against the manifest, so
/// each agent sends about one image's bytes in all, whichever tree it is interior in.
/// </summary>
public sealed class When_a_tree_is_striped
{
    private const int ChunkSize = 64 * 1024;

    [Fact]
    public async Task Should_push_each_stripe_down_its_own_tree_and_deliver_identical_images()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", (5 * ChunkSize) + 777), ("root-vm-1", ChunkSize), ("root-vm-2", 0)]);
        foreach (var vmm in new[] { "a", "b", "c", "d" })
        {
            await cluster.AddAsync(vmm, "root");
        }

        // Stripe 0: root -> a -> (b, c), c -> d. Stripe 1: root -> b -> (a, d), d -> c.
        var tree = TwoStripes(cluster, 1, ("a", "root", "b"), ("b", "a", "root"), ("c", "a", "d"), ("d", "c", "b"));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, tree, ChunkSize);

        Assert.True(root.Engine.StartTransfer(operationId));
        foreach (var vmm in new[] { "a", "b", "c", "d" })
        {
            var received = await cluster.WaitForReceivedAsync(operationId, vmm);
            Assert.Equal(root.Vmm.Images.Select(i => (i.VmId, i.Sha256)), received.Vms.Select(v => (v.VmId, v.Sha256)));
            foreach (var image in root.Vmm.Images)
            {
                Assert.Equal(image.Sha256, FileVmm.Sha256Of(cluster[vmm].Vmm.ImagePath(image.VmId)));
            }
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());

        // Stripe 0 is chunks 0, 2, 4 of VM 0 and VM 1's only chunk; stripe 1 the rest of VM 0.
        const long stripe0 = (3 * ChunkSize) + ChunkSize;
        const long stripe1 = (2 * ChunkSize) + 777;
        Assert.Equal(stripe0, root.Engine.BytesSentTo(operationId, "a"));
        Assert.Equal(stripe1, root.Engine.BytesSentTo(operationId, "b"));
        Assert.Equal(stripe0, cluster["a"].Engine.BytesSentTo(operationId, "b"));
        Assert.Equal(stripe0, cluster["a"].Engine.BytesSentTo(operationId, "c"));
        Assert.Equal(stripe1, cluster["b"].Engine.BytesSentTo(operationId, "a"));
        Assert.Equal(stripe1, cluster["b"].Engine.BytesSentTo(operationId, "d"));
        Assert.Equal(stripe1, cluster["d"].Engine.BytesSentTo(operationId, "c"));
        Assert.Equal(stripe0, cluster["c"].Engine.BytesSentTo(operationId, "d"));
    }

    [Fact]
    public async Task Should_carry_every_chunk_down_stripe_zeros_tree_when_an_image_is_still_being_saved()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null);
        await cluster.AddAsync("a", "root");
        await cluster.AddAsync("b", "a");
        var growing = root.Vmm.Grow("root-vm-0");
        var tree = TwoStripes(cluster, 1, ("a", "root", "b"), ("b", "a", "root"));
        var operationId = Guid.NewGuid();

        var announced = cluster.Announce(operationId, tree, ChunkSize, [VmImage.Unsealed("root-vm-0")]);

        Assert.Equal(1, announced.Tree.Stripes);
        Assert.True(root.Engine.StartTransfer(operationId));
        await growing.WriteAsync(new byte[(3 * ChunkSize) + 5], CancellationToken.None);
        var image = await growing.SealAsync();
        foreach (var vmm in new[] { "a", "b" })
        {
            var copy = Assert.Single((await cluster.WaitForReceivedAsync(operationId, vmm)).Vms);
            Assert.Equal(image.Sha256, copy.Sha256);
        }

        Assert.Equal(image.Bytes, root.Engine.BytesSentTo(operationId, "a"));
        Assert.Equal(0, root.Engine.BytesSentTo(operationId, "b"));
        Assert.Equal(image.Bytes, cluster["a"].Engine.BytesSentTo(operationId, "b"));
    }

    [Fact]
    public async Task Should_fail_the_receive_when_the_image_assembled_from_verified_stripes_is_not_the_manifests()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", 4 * ChunkSize)]);
        await cluster.AddAsync("a", "root");
        await cluster.AddAsync("b", "root");

        // Both stripes straight from the root: each receiver verifies and assembles on its own (through a relay, the
        // first to fail would stop feeding the other, which would then report its parent unreachable instead).
        var tree = TwoStripes(cluster, 1, ("a", "root", "root"), ("b", "root", "root"));
        var operationId = Guid.NewGuid();
        var wrong = root.Vmm.Images[0] with { Sha256 = new string('0', 64) };

        cluster.Announce(operationId, tree, ChunkSize, [wrong]);
        Assert.True(root.Engine.StartTransfer(operationId));

        foreach (var vmm in new[] { "a", "b" })
        {
            var failed = await cluster.Events.WaitForAsync<OperationStepFailed>(f => f.OperationId == operationId && f.VmmId == vmm);
            Assert.Equal(OperationStep.Receive, failed.Step);
            Assert.Contains("assembled from its 2 stripes", failed.Reason, StringComparison.Ordinal);
            Assert.Empty(cluster[vmm].Vmm.Adopted);
        }

        Assert.Empty(cluster.Events.All<VmsReceived>());
    }

    [Fact]
    public async Task Should_feed_a_stripe_from_its_new_parent_when_a_newer_tree_replaces_a_lost_relay()
    {
        await using var cluster = new TransferCluster();
        const long imageBytes = 64L * ChunkSize;
        var root = await cluster.AddAsync("root", null, [("root-vm-0", imageBytes)]);
        foreach (var vmm in new[] { "a", "b", "c" })
        {
            await cluster.AddAsync(vmm, "root");
        }

        // Stripe 0: root -> a -> (b, c). Stripe 1: root -> b -> (a, c).
        root.Vmm.WrapImage = s => new CountingStream(s, _ => { }, TimeSpan.FromMilliseconds(20));
        var tree = TwoStripes(cluster, 1, ("a", "root", "b"), ("b", "a", "root"), ("c", "a", "b"));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, tree, ChunkSize);
        Assert.True(cluster["c"].Engine.TryGetReceiver(operationId, out var atC));
        Assert.True(root.Engine.StartTransfer(operationId));
        await Poll.UntilAsync(() => atC.SpoolsOf(1)[0].CommittedLength > 0, "c holds part of stripe 1 (from b)", TimeSpan.FromMinutes(2));

        // b goes down; the repaired tree feeds stripe 1 through c: root -> c -> a.
        await cluster.StopAsync("b");
        var repaired = TwoStripes(cluster, 2, ("a", "root", "c"), ("c", "a", "root"));
        cluster.Announce(operationId, repaired, ChunkSize);

        foreach (var vmm in new[] { "a", "c" })
        {
            await cluster.WaitForReceivedAsync(operationId, vmm, TimeSpan.FromMinutes(2));
            Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(cluster[vmm].Vmm.ImagePath("root-vm-0")));
        }

        // a resumed stripe 1 from c where b's stream had left it.
        var layout = new StripeLayout(2, ChunkSize);
        Assert.InRange(cluster["c"].Engine.BytesSentTo(operationId, "a"), 1, layout.LengthOf(imageBytes, 1));
        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }

    [Fact]
    public async Task Should_resume_every_stripe_when_a_receiver_restarts_mid_receive()
    {
        await using var cluster = new TransferCluster();
        const long imageBytes = 96L * ChunkSize;
        var root = await cluster.AddAsync("root", null, [("root-vm-0", imageBytes)]);
        await cluster.AddAsync("x", "root");
        await cluster.AddAsync("y", "root");

        // Stripe 0: root -> x -> y. Stripe 1: root -> y -> x.
        root.Vmm.WrapImage = s => new CountingStream(s, _ => { }, TimeSpan.FromMilliseconds(20));
        var tree = TwoStripes(cluster, 1, ("x", "root", "y"), ("y", "x", "root"));
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, tree, ChunkSize);
        Assert.True(cluster["y"].Engine.TryGetReceiver(operationId, out var atY));
        Assert.True(root.Engine.StartTransfer(operationId));
        await Poll.UntilAsync(() => atY.BytesReceived >= imageBytes / 4, "y holds a quarter of the image", TimeSpan.FromMinutes(2));

        await cluster.StopAsync("y");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(atY.Directory, "offsets.json")), "y recorded its offsets");
        var y = await cluster.RestartAsync("y");

        var resumed = await cluster.Events.WaitForAsync<ReceiveResumed>(r => r.OperationId == operationId && r.VmmId == "y");
        Assert.True(resumed.BytesHeld > 0, "y resumed holding nothing");
        foreach (var vmm in new[] { "x", "y" })
        {
            await cluster.WaitForReceivedAsync(operationId, vmm, TimeSpan.FromMinutes(2));
            Assert.Equal(root.Vmm.Images[0].Sha256, FileVmm.Sha256Of(cluster[vmm].Vmm.ImagePath("root-vm-0")));
        }

        Assert.True(y.Engine.TryGetReceiver(operationId, out var reloaded));
        Assert.Equal(2, reloaded.Layout.Stripes);
        Assert.Empty(cluster.Events.All<OperationStepFailed>());
    }

    /// <summary>A tree of two stripes rooted at "root" over the agents named, each with its parent in stripe 0 and in stripe 1.</summary>
    private static VmmTree TwoStripes(TransferCluster cluster, long version, params (string VmmId, string Stripe0, string Stripe1)[] nodes) =>
        new(version, "root", 2,
        [
            cluster["root"].Node(null) with { StripeParents = [null, null] },
            .. nodes.Select(n => cluster[n.VmmId].Node(n.Stripe0) with { StripeParents = [n.Stripe0, n.Stripe1] }),
        ], Stripes: 2);
}
