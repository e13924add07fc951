using Treecast.Contracts;
using Treecast.Policy.Operations;
using Treecast.TestSupport.Harness;

namespace Treecast.Policy.Tests.Sagas;

public sealed class When_receivers_report_progress : SagaSpecification
{
    [Fact]
    public async Task Should_start_the_transfer_only_when_every_vmm_is_ready()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);

        await PublishToOperations(new ReadyToReceive(id, "vmm-1"));
        await PublishToOperations(new ReadyToReceive(id, "vmm-1"));
        await PublishToOperations(new ReadyToReceive(id, TestTree.Root));
        await PublishToOperations(new ReadyToReceive(id, "vmm-2"));

        var waiting = await OperationIn(id, m => m.Announcing);
        Assert.Equal(["vmm-1", "vmm-2"], waiting.Hosts.Where(h => h.Ready && h.VmmId != TestTree.Root).Select(h => h.VmmId));
        Assert.Empty(Harness.Sent.Select<StartTransfer>());

        await Publish(new ReadyToReceive(id, "vmm-3"));
        await OperationIn(id, m => m.Transferring);
        await SentTo<StartTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id);
        Assert.Single(Harness.Sent.Select<StartTransfer>());
    }

    [Fact]
    public async Task Should_keep_progress_out_of_the_saga_document()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);
        var before = Operations.Sagas.Contains(id);
        var version = before.Version;
        var history = before.History.Count;

        await Publish(new TransferProgressed(id, "vmm-2", 8192, TestTree.TotalBytes));
        await Publish(new TransferProgressed(id, "vmm-2", 4096, TestTree.TotalBytes));
        await Publish(new TransferProgressed(id, "vmm-3", 1024, TestTree.TotalBytes));

        Assert.True(await Harness.Consumed.ShowsAsync<TransferProgressed>(m => m.VmmId == "vmm-3"));
        var reports = await EventuallyReported(id, r => r.Count == 2 && r.Any(p => p.VmmId == "vmm-3"));
        var vmm2 = reports.Single(r => r.VmmId == "vmm-2");
        Assert.Equal(8192, vmm2.BytesReceived);
        Assert.Equal(TestTree.TotalBytes, vmm2.TotalBytes);
        Assert.Equal(Clock.GetUtcNow(), vmm2.LastProgressAt);

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.Equal(version, operation.Version);
        Assert.Equal(history, operation.History.Count);
        Assert.All(operation.Receivers(), h => Assert.Equal(0, h.BytesReceived));
        Assert.False(await Operations.Consumed.Any<TransferProgressed>());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_wait_for_every_vmm_to_verify_its_copies()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);

        await PublishToOperations(new VmsReceived(id, "vmm-1", TestTree.Copies(VmState.Paused)));
        await PublishToOperations(new VmsReceived(id, "vmm-3", TestTree.Copies(VmState.Paused)));

        var operation = await OperationIn(id, m => m.Transferring);
        Assert.False(operation.Hosts.Single(h => h.VmmId == "vmm-2").Verified);
        Assert.Empty(Harness.Published.Select<BroadcastOperationFinished>());

        await Publish(new VmsReceived(id, "vmm-2", TestTree.Copies(VmState.Paused)));
        await OperationIn(id, m => m.Completed);
    }

    private async Task<IReadOnlyList<ReceiverProgress>> EventuallyReported(Guid id, Func<IReadOnlyList<ReceiverProgress>, bool> done)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<ReceiverProgress> reports;
        while (!done(reports = await Progress.ForOperationAsync(id, CancellationToken.None)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"progress of {id} never arrived: {string.Join(", ", reports)}");
            await Task.Delay(20);
        }

        return reports;
    }
}
