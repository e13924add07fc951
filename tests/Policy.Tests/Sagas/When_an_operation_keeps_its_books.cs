using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// The bookkeeping of <see cref="BroadcastOperationState"/> on its own, without a bus: what each report means for the
/// tree over <see cref="TestTree"/> (vmm-0 feeds vmm-1 and vmm-2, vmm-1 feeds vmm-3).
/// </summary>
public sealed class When_an_operation_keeps_its_books
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Should_give_every_vmm_of_the_tree_its_parent_and_make_the_root_hold_the_paused_vms()
    {
        var operation = Announced(TestTree.Vms);

        Assert.Equal(["vmm-0", "vmm-1", "vmm-2", "vmm-3"], operation.Hosts.Select(h => h.VmmId));
        Assert.Equal("vmm-1", Host(operation, "vmm-3").ParentVmmId);
        var root = Host(operation, TestTree.Root);
        Assert.True(root.Ready && root.Verified);
        Assert.Equal(TestTree.Copies(VmState.Paused), root.Copies);
        Assert.All(operation.Hosts, h => Assert.Equal(TestTree.TotalBytes, h.TotalBytes));
        Assert.Equal(["vmm-1", "vmm-2", "vmm-3"], operation.Receivers().Select(h => h.VmmId));
        Assert.False(operation.IsReceiver(TestTree.Root));
        Assert.False(operation.IsReceiver("vmm-9"));
    }

    [Fact]
    public void Should_keep_a_seal_that_overtook_the_pause_report()
    {
        var operation = new BroadcastOperationState { RootVmmId = TestTree.Root };
        operation.AdoptTree(TestTree.Build());

        operation.Seal(TestTree.Vms);
        operation.RecordPaused(TestTree.Vms.Select(v => VmImage.Unsealed(v.VmId)).ToArray(), At);

        Assert.True(operation.IsSealed());
        Assert.Equal(TestTree.Vms, operation.Vms);
        Assert.Equal(At, operation.PausedAt);
    }

    [Fact]
    public void Should_know_no_total_until_the_manifest_is_sealed()
    {
        var operation = Announced(TestTree.Vms.Select(v => VmImage.Unsealed(v.VmId)).ToArray());
        Assert.False(operation.IsSealed());
        Assert.All(operation.Hosts, h => Assert.Equal(0, h.TotalBytes));

        operation.Seal(TestTree.Vms);

        Assert.True(operation.IsSealed());
        Assert.All(operation.Hosts, h => Assert.Equal(TestTree.TotalBytes, h.TotalBytes));
        Assert.Equal(TestTree.TotalBytes, Host(operation, TestTree.Root).BytesReceived);
    }

    [Fact]
    public void Should_mark_only_receivers_ready()
    {
        var operation = Announced(TestTree.Vms);

        operation.MarkReady("vmm-2");
        operation.MarkReady("vmm-9");

        Assert.Equal(["vmm-0", "vmm-2"], operation.Hosts.Where(h => h.Ready).Select(h => h.VmmId));
    }

    [Fact]
    public void Should_drop_a_failed_relay_with_the_unverified_vmms_below_it()
    {
        var operation = Announced(TestTree.Vms);

        var dropped = operation.DropReceiver("vmm-1", OperationStep.Receive, "disk full");

        Assert.Equal(["vmm-1", "vmm-3"], dropped.Select(h => h.VmmId));
        Assert.Equal("receive failed: disk full", Host(operation, "vmm-1").FailureReason);
        Assert.Equal("parent vmm-1 failed", Host(operation, "vmm-3").FailureReason);
        Assert.Equal(["vmm-2"], operation.LiveReceivers().Select(h => h.VmmId));
        Assert.Equal("2 of 3 receiving VMMs failed: vmm-1 (receive failed: disk full); vmm-3 (parent vmm-1 failed)", operation.PartialFailure());
        Assert.Equal(", going on without vmm-1, vmm-3", operation.WithoutFailed());
        Assert.Empty(operation.DropReceiver("vmm-1", OperationStep.Receive, "again"));
        Assert.Empty(operation.DropReceiver(TestTree.Root, OperationStep.Relay, "the root is not a receiver"));
    }

    [Fact]
    public void Should_take_back_a_vmm_dropped_for_its_parent_when_it_verified_after_all()
    {
        var operation = Announced(TestTree.Vms);
        operation.DropReceiver("vmm-1", OperationStep.Receive, "disk full");

        operation.AcceptCopies(new VmsReceived(operation.CorrelationId, "vmm-3", TestTree.Copies(VmState.Paused)));
        operation.AcceptCopies(new VmsReceived(operation.CorrelationId, "vmm-1", TestTree.Copies(VmState.Paused)));

        var taken = Host(operation, "vmm-3");
        Assert.True(taken.Verified);
        Assert.False(taken.Failed);
        Assert.Equal(TestTree.TotalBytes, taken.BytesReceived);
        Assert.True(Host(operation, "vmm-1").Failed);
        Assert.Empty(Host(operation, "vmm-1").Copies);
    }

    [Fact]
    public void Should_drop_a_verified_receiver_whose_copies_do_not_carry_the_sealed_digests()
    {
        var operation = Announced(TestTree.Vms);
        operation.AcceptCopies(new VmsReceived(operation.CorrelationId, "vmm-2", [TestTree.Copies(VmState.Paused)[0]]));
        operation.AcceptCopies(new VmsReceived(operation.CorrelationId, "vmm-3", TestTree.Copies(VmState.Paused)));

        var dropped = operation.DropMismatchedCopies();

        Assert.Equal(["vmm-2"], dropped.Select(h => h.VmmId));
        Assert.Equal("verify failed: it reported no copy of vm-b", Host(operation, "vmm-2").FailureReason);
    }

    [Fact]
    public void Should_record_resumed_copies_only_on_vmms_still_in_the_operation()
    {
        var operation = Announced(TestTree.Vms);
        operation.DropReceiver("vmm-2", OperationStep.Receive, "disk full");

        operation.AcceptResumed(new VmsResumed(operation.CorrelationId, TestTree.Root, TestTree.RunningCopiesOn(TestTree.Root)));
        operation.AcceptResumed(new VmsResumed(operation.CorrelationId, "vmm-2", TestTree.RunningCopiesOn("vmm-2")));

        Assert.Equal([TestTree.Root], operation.Hosts.Where(h => h.Resumed).Select(h => h.VmmId));
        Assert.Equal(TestTree.RunningCopiesOn(TestTree.Root), Host(operation, TestTree.Root).Copies);
        Assert.Empty(Host(operation, "vmm-2").Copies);
    }

    [Fact]
    public void Should_fail_a_lost_relay_alone_and_see_the_vmm_it_fed_as_an_orphan()
    {
        var operation = Announced(TestTree.Vms);

        var lost = operation.FailReceiver("vmm-1", "lost: no heartbeat", mayRejoin: true);

        Assert.Equal("vmm-1", lost?.VmmId);
        Assert.Equal(["vmm-2", "vmm-3"], operation.LiveReceivers().Select(h => h.VmmId));
        Assert.Equal(["vmm-3"], operation.Orphans().Select(h => h.VmmId));
        Assert.Null(operation.FailReceiver("vmm-1", "again", mayRejoin: true));
        Assert.Null(operation.FailReceiver(TestTree.Root, "the root is not a receiver", mayRejoin: true));

        var repair = operation.RepairRequest("vmm-1 was lost");
        Assert.Equal(["vmm-0", "vmm-2", "vmm-3"], repair.Members);
        Assert.Equal(3, repair.PreviousVersion);
        Assert.Equal(["vmm-1 was lost"], operation.PendingRepairs);
    }

    [Fact]
    public void Should_adopt_only_a_newer_repaired_tree_and_say_who_was_re_parented()
    {
        var operation = Announced(TestTree.Vms);
        operation.FailReceiver("vmm-1", "lost: no heartbeat", mayRejoin: true);
        operation.RepairRequest("vmm-1 was lost");

        Assert.Null(operation.AdoptRepairedTree(new TreeRepaired(operation.CorrelationId, TestTree.Build(version: 3), [])));
        var note = operation.AdoptRepairedTree(new TreeRepaired(operation.CorrelationId, TestTree.Repaired(4, ("vmm-2", TestTree.Root), ("vmm-3", "vmm-2")), []));

        Assert.Equal("tree v4 repaired after vmm-1 was lost: vmm-3 re-parented", note);
        Assert.Equal(4, operation.TreeVersion);
        Assert.Equal("vmm-2", Host(operation, "vmm-3").ParentVmmId);
        Assert.Empty(operation.Orphans());
        Assert.Empty(operation.PendingRepairs);
        Assert.Equal("vmm-0", operation.Announcement().Tree.RootVmmId);
        Assert.Equal(4, operation.Announcement().Tree.Version);
    }

    [Fact]
    public void Should_take_back_only_a_vmm_that_failed_unreachable()
    {
        var operation = Announced(TestTree.Vms);
        operation.FailReceiver("vmm-3", "lost: no heartbeat", mayRejoin: true);
        operation.FailReceiver("vmm-2", "receive failed: disk full", mayRejoin: false);

        Assert.True(operation.Rejoin("vmm-3"));
        Assert.False(operation.Rejoin("vmm-2"));
        Assert.False(operation.Rejoin("vmm-1"));

        Assert.False(Host(operation, "vmm-3").Failed);
        Assert.True(Host(operation, "vmm-3").Ready);
        Assert.True(operation.HoldsNothingOf("vmm-2"));
        Assert.False(operation.HoldsNothingOf("vmm-3"));
    }

    [Fact]
    public void Should_fail_the_orphans_and_the_unverified_vmms_below_them_when_no_tree_comes()
    {
        var operation = new BroadcastOperationState { CorrelationId = Guid.NewGuid() };
        operation.Start(new BroadcastRequested(operation.CorrelationId, TestTree.Root, BroadcastMode.Broadcast, 2, 65536, "p", "r", At));
        operation.AdoptTree(new VmmTree(3, TestTree.Root, 1,
        [
            new TreeNode(TestTree.Root, null, "a", "x"),
            new TreeNode("vmm-1", TestTree.Root, "a", "x"),
            new TreeNode("vmm-2", "vmm-1", "a", "x"),
            new TreeNode("vmm-3", "vmm-2", "a", "x"),
        ]));
        operation.RecordPaused(TestTree.Vms, At);
        operation.FailReceiver("vmm-1", "lost: no heartbeat", mayRejoin: true);

        var dropped = operation.DropOrphans();

        Assert.Equal(["vmm-2", "vmm-3"], dropped.Select(h => h.VmmId));
        Assert.Equal("parent vmm-1 failed", Host(operation, "vmm-2").FailureReason);
        Assert.Equal("parent vmm-2 failed", Host(operation, "vmm-3").FailureReason);
        Assert.Empty(operation.LiveReceivers());
    }

    private static BroadcastOperationState Announced(IReadOnlyList<VmImage> vms)
    {
        var operation = new BroadcastOperationState { CorrelationId = Guid.NewGuid() };
        operation.Start(new BroadcastRequested(operation.CorrelationId, TestTree.Root, BroadcastMode.Broadcast, 2, 65536, "p", "r", At));
        operation.AdoptTree(TestTree.Build());
        operation.RecordPaused(vms, At);
        return operation;
    }

    private static VmmProgress Host(BroadcastOperationState operation, string vmmId) =>
        operation.Hosts.Single(h => h.VmmId == vmmId);
}
