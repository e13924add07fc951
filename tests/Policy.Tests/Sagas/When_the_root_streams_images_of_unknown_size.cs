using Treecast.Contracts;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// A QEMU root announces its images while their migration streams are still being written (unsealed: no size, no
/// digest) and reports their sizes and digests when the streams end.
/// </summary>
public sealed class When_the_root_streams_images_of_unknown_size : SagaSpecification
{
    private static readonly IReadOnlyList<VmImage> Unsealed = TestTree.Vms.Select(v => VmImage.Unsealed(v.VmId)).ToArray();

    [Fact]
    public async Task Should_announce_the_unsealed_images_at_once()
    {
        var id = await PauseUnsealed(BroadcastMode.Broadcast);

        var announce = await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id);
        Assert.Equal(Unsealed, announce.Vms);
        var operation = await OperationIn(id, m => m.Announcing);
        Assert.All(operation.Vms, v => Assert.False(v.IsSealed));
        Assert.Equal("2 VMs paused on vmm-0, 2 images still being saved", operation.History.Last().Note);
    }

    [Fact]
    public async Task Should_complete_only_once_the_seal_arrives_after_every_receiver_verified()
    {
        var id = await PauseUnsealed(BroadcastMode.Broadcast);
        await ReadyEveryReceiver(id);
        foreach (var vmm in TestTree.Receivers)
        {
            await PublishToOperations(new VmsReceived(id, vmm, TestTree.Copies(VmState.Paused)));
        }

        Assert.Equal("Transferring", Operations.Sagas.Contains(id).CurrentState);
        await Publish(new VmImagesSealed(id, TestTree.Root, TestTree.Vms));

        var operation = await OperationIn(id, m => m.Completed);
        Assert.Equal(TestTree.Vms, operation.Vms);
        Assert.All(operation.Hosts, h => Assert.Equal(TestTree.TotalBytes, h.TotalBytes));
        Assert.All(operation.Hosts, h => Assert.Equal(TestTree.TotalBytes, h.BytesReceived));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.Completed, finished.State);
        Assert.Equal(TestTree.Vms, finished.Vms);
        Assert.All(finished.Hosts, host => Assert.Equal(TestTree.Copies(VmState.Paused), host.Vms));
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_complete_when_the_last_receiver_verifies_after_the_seal()
    {
        var id = await PauseUnsealed(BroadcastMode.Broadcast);
        await PublishToOperations(new VmImagesSealed(id, TestTree.Root, TestTree.Vms));
        Assert.Equal(TestTree.Vms, Operations.Sagas.Contains(id).Vms);
        await ReadyEveryReceiver(id);
        await ReceiveOnEveryReceiver(id);

        var operation = await OperationIn(id, m => m.Completed);
        Assert.Equal(["ResolvingTree", "Pausing", "Announcing", "Transferring", "Completed"], operation.History.Select(h => h.State));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(TestTree.Vms, finished.Vms);
        Assert.Null(finished.FailureReason);
    }

    [Fact]
    public async Task Should_resume_the_copies_only_once_sealed_in_duplicate_mode()
    {
        var id = await PauseUnsealed(BroadcastMode.Duplicate);
        await ReadyEveryReceiver(id);
        foreach (var vmm in TestTree.Receivers)
        {
            await PublishToOperations(new VmsReceived(id, vmm, TestTree.Copies(VmState.Paused)));
        }

        Assert.Empty(Harness.Sent.Select<ResumeVms>());
        await Publish(new VmImagesSealed(id, TestTree.Root, TestTree.Vms));

        await OperationIn(id, m => m.Duplicating);
        await ResumeEverywhere(id);
        await OperationIn(id, m => m.Duplicated);
    }

    [Fact]
    public async Task Should_drop_a_receiver_whose_copies_do_not_carry_the_sealed_digest()
    {
        var id = await PauseUnsealed(BroadcastMode.Broadcast);
        await ReadyEveryReceiver(id);
        var wrong = TestTree.Copies(VmState.Paused).Select(c => c with { Sha256 = new string('f', 64) }).ToArray();
        await Publish(new VmsReceived(id, "vmm-2", wrong));
        await Publish(new VmsReceived(id, "vmm-1", TestTree.Copies(VmState.Paused)));
        await Publish(new VmsReceived(id, "vmm-3", TestTree.Copies(VmState.Paused)));
        await Publish(new VmImagesSealed(id, TestTree.Root, TestTree.Vms));

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        var dropped = operation.Hosts.Single(h => h.VmmId == "vmm-2");
        Assert.True(dropped.Failed);
        Assert.Contains($"verify failed: it holds vm-a with SHA-256 {new string('f', 64)}, the root sealed it with {TestTree.Vms[0].Sha256}", dropped.FailureReason, StringComparison.Ordinal);
        Assert.All(operation.Hosts.Where(h => h.VmmId != "vmm-2"), h => Assert.False(h.Failed));
    }

    [Fact]
    public async Task Should_fail_when_the_roots_stream_breaks()
    {
        var id = await PauseUnsealed(BroadcastMode.Broadcast);
        await ReadyEveryReceiver(id);
        await Publish(new OperationStepFailed(id, TestTree.Root, OperationStep.Pause, "VM vm-a on vmm-0: saving its state failed after 4096 bytes: QEMU was killed by signal 9"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal("pause failed on vmm-0: VM vm-a on vmm-0: saving its state failed after 4096 bytes: QEMU was killed by signal 9", operation.FailureReason);
    }

    [Fact]
    public async Task Should_wait_for_the_seal_when_the_tree_has_only_the_root()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.RootOnly());
        await PublishToOperations(new VmsPaused(id, TestTree.Root, Unsealed));
        Assert.Equal("Pausing", Operations.Sagas.Contains(id).CurrentState);

        await Publish(new VmImagesSealed(id, TestTree.Root, TestTree.Vms));

        await OperationIn(id, m => m.Completed);
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(TestTree.Vms, finished.Vms);
        Assert.Equal(TestTree.Copies(VmState.Paused), Assert.Single(finished.Hosts).Vms);
    }

    private async Task<Guid> PauseUnsealed(BroadcastMode mode)
    {
        var id = await RequestBroadcast(mode);
        await ResolveTree(id, TestTree.Build());
        await Publish(new VmsPaused(id, TestTree.Root, Unsealed));
        await OperationIn(id, m => m.Announcing);
        return id;
    }
}
