using Treecast.Agent.Tests.Support;
using Treecast.Contracts;

namespace Treecast.Agent.Tests.Transfer;

/// <summary>
/// A striped tree (two stripe trees over the same agents) given to agents that do not stripe yet: every chunk travels
/// down stripe 0's tree, which spans every agent, so the copies are whole; no agent pushes along stripe 1's links.
/// </summary>
public sealed class StripedTreeSpecs
{
    [Fact]
    public async Task Agents_deliver_every_chunk_down_stripe_zero_of_a_striped_tree()
    {
        await using var cluster = new TransferCluster();
        var root = await cluster.AddAsync("root", null, [("root-vm-0", (5 * 64 * 1024) + 777), ("root-vm-1", 64 * 1024)]);
        foreach (var vmm in new[] { "a", "b", "c", "d" })
        {
            await cluster.AddAsync(vmm, "root");
        }

        // Stripe 0: root -> a -> (b, c), c -> d. Stripe 1: root -> b -> (a, d), d -> c.
        var tree = new VmmTree(1, "root", 2,
        [
            cluster["root"].Node(null) with { StripeParents = [null, null] },
            cluster["a"].Node("root") with { StripeParents = ["root", "b"] },
            cluster["b"].Node("a") with { StripeParents = ["a", "root"] },
            cluster["c"].Node("a") with { StripeParents = ["a", "d"] },
            cluster["d"].Node("c") with { StripeParents = ["c", "b"] },
        ], Stripes: 2);
        var operationId = Guid.NewGuid();
        cluster.Announce(operationId, tree, chunkSizeBytes: 64 * 1024);

        Assert.True(root.Engine.StartTransfer(operationId));
        foreach (var vmm in new[] { "a", "b", "c", "d" })
        {
            await cluster.WaitForReceivedAsync(operationId, vmm);
            foreach (var image in root.Vmm.Images)
            {
                Assert.Equal(image.Sha256, FileVmm.Sha256Of(cluster[vmm].Vmm.ImagePath(image.VmId)));
            }
        }

        Assert.Empty(cluster.Events.All<OperationStepFailed>());
        var total = root.Vmm.Images.Sum(i => i.Bytes);
        Assert.Equal(total, root.Engine.BytesSentTo(operationId, "a"));
        Assert.Equal(0, root.Engine.BytesSentTo(operationId, "b"));
        Assert.Equal(0, cluster["d"].Engine.BytesSentTo(operationId, "c"));
    }
}
