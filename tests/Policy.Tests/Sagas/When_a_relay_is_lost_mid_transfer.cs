using Treecast.Contracts;
using Treecast.TestSupport.Harness;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// Topology declares the interior relay vmm-1 lost while it feeds vmm-3 (<see cref="TestTree"/>: vmm-0 feeds vmm-1 and
/// vmm-2, vmm-1 feeds vmm-3). The policy service's <c>VmmLostConsumer</c> tells the operation; topology's answer to the
/// repair is played by the test.
/// </summary>
public sealed class When_a_relay_is_lost_mid_transfer : SagaSpecification
{
    private static readonly DateTimeOffset LastSeen = new(2026, 11, 25, 8, 59, 30, TimeSpan.Zero);

    [Fact]
    public async Task Should_ask_for_the_fan_out_topology_picked_when_the_policy_left_it_to_topology()
    {
        // The policy named no fan-out (0): topology picked the first tree's (TestTree's 2), and a repair keeps it.
        var id = await Transferring(BroadcastMode.Broadcast, fanOut: 0);
        Assert.Equal(0, (await SentTo<ResolveTree>(Addresses.TopologyQueue, m => m.OperationId == id)).FanOut);

        await Publish(new VmmLost("vmm-1", LastSeen, Clock.GetUtcNow()));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(TestTree.Build().FanOut, repair.FanOut);
    }

    [Fact]
    public async Task Should_repair_the_tree_announce_it_and_complete_with_the_lost_vmm_failed_and_the_rest_verified()
    {
        var id = await Transferring(BroadcastMode.Broadcast);

        await Publish(new VmmLost("vmm-1", LastSeen, Clock.GetUtcNow()));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal((TestTree.Root, 2, 3L), (repair.RootVmmId, repair.FanOut, repair.PreviousVersion));
        Assert.Equal(["vmm-0", "vmm-2", "vmm-3"], repair.Members);
        var losing = await OperationIn(id, m => m.Transferring);
        var lost = losing.Hosts.Single(h => h.VmmId == "vmm-1");
        Assert.True(lost.Failed);
        Assert.Equal($"lost: no heartbeat since {LastSeen:O}", lost.FailureReason);
        Assert.False(losing.Hosts.Single(h => h.VmmId == "vmm-3").Failed);

        await Publish(new TreeRepaired(id, TestTree.Repaired(4, ("vmm-2", TestTree.Root), ("vmm-3", "vmm-2")), []));

        var announce = await SentTo<AnnouncePendingTransfer>(Addresses.AgentQueue(TestTree.Root), m => m.OperationId == id && m.Tree.Version == 4);
        Assert.Equal("vmm-2", announce.Tree.Find("vmm-3")!.ParentVmmId);
        Assert.Null(announce.Tree.Find("vmm-1"));
        Assert.Equal(TestTree.Vms, announce.Vms);
        await Receive(id, "vmm-2", "vmm-3");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.Equal(4, operation.TreeVersion);
        Assert.Equal("vmm-2", operation.Hosts.Single(h => h.VmmId == "vmm-3").ParentVmmId);
        Assert.Equal($"1 of 3 receiving VMMs failed: vmm-1 (lost: no heartbeat since {LastSeen:O})", operation.FailureReason);
        Assert.Equal(
            [$"vmm-1 failed (lost: no heartbeat since {LastSeen:O})", "tree v4 repaired after vmm-1 was lost: vmm-3 re-parented"],
            operation.History.Skip(4).Take(2).Select(h => h.Note));
        Assert.All(operation.Hosts.Where(h => h.VmmId != "vmm-1"), h => Assert.True(h.Verified));
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Equal(OperationFinalState.CompletedWithFailures, finished.State);
        Assert.Empty(finished.Hosts.Single(h => h.VmmId == "vmm-1").Vms);
        Assert.Single(Harness.Sent.Select<StartTransfer>());
        await AssertNoFaults();
    }

    [Fact]
    public async Task Should_tell_only_the_running_operations_whose_tree_holds_the_vmm()
    {
        var running = await Transferring(BroadcastMode.Broadcast);
        var ended = (await RunToTheEnd(BroadcastMode.Broadcast)).CorrelationId;

        await Publish(new VmmLost("vmm-9", LastSeen, Clock.GetUtcNow()));
        await Publish(new VmmLost("vmm-2", LastSeen, Clock.GetUtcNow()));

        var told = await Published<OperationVmmLost>(m => m.VmmId == "vmm-2");
        Assert.Equal(new OperationVmmLost(running, "vmm-2", $"no heartbeat since {LastSeen:O}"), told);
        Assert.True(await Harness.Consumed.ShowsAsync<VmmLost>(m => m.VmmId == "vmm-9"));
        Assert.Single(Harness.Published.Select<OperationVmmLost>());
        var untouched = Operations.Sagas.Contains(ended);
        Assert.Equal("Completed", untouched.CurrentState);
        Assert.DoesNotContain(untouched.Hosts, h => h.Failed);

        // vmm-2 is a leaf: nothing below it to re-parent, so no repair.
        Assert.True((await OperationIn(running, m => m.Transferring)).Hosts.Single(h => h.VmmId == "vmm-2").Failed);
        Assert.Empty(Harness.Sent.Select<RepairTree>());
    }

    [Fact]
    public async Task Should_fail_the_operation_when_the_root_is_lost()
    {
        var id = await Transferring(BroadcastMode.Broadcast);

        await Publish(new OperationVmmLost(id, TestTree.Root, "no heartbeat since 08:59"));

        var operation = await OperationIn(id, m => m.Failed);
        Assert.Equal("root vmm-0 lost: no heartbeat since 08:59", operation.FailureReason);
        Assert.Empty(Harness.Sent.Select<RepairTree>());
    }

    [Fact]
    public async Task Should_let_the_verified_copies_run_when_the_root_is_lost_while_resuming()
    {
        var id = await Transferring(BroadcastMode.Duplicate);
        await Receive(id, TestTree.Receivers);
        await OperationIn(id, m => m.Duplicating);

        await Publish(new OperationVmmLost(id, TestTree.Root, "no heartbeat since 08:59"));
        foreach (var vmm in TestTree.Receivers)
        {
            await Publish(new VmsResumed(id, vmm, TestTree.RunningCopiesOn(vmm)));
        }

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.Equal("root vmm-0 failed (lost: no heartbeat since 08:59); 0 of 3 receiving VMMs failed: ", operation.FailureReason);
        var finished = await Published<BroadcastOperationFinished>(m => m.OperationId == id);
        Assert.Empty(finished.Hosts.Single(h => h.VmmId == TestTree.Root).Vms);
        Assert.All(finished.Hosts.Where(h => h.VmmId != TestTree.Root), h => Assert.Equal(TestTree.RunningCopiesOn(h.VmmId), h.Vms));
    }

    [Fact]
    public async Task Should_fail_the_orphans_when_no_repaired_tree_can_be_built()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationVmmLost(id, "vmm-1", "no heartbeat since 08:59"));
        await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);

        await Publish(new TreeResolutionFailed(id, TestTree.Root, "no live VMM can take vmm-3"));
        await Receive(id, "vmm-2");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        Assert.Equal("parent vmm-1 failed", operation.Hosts.Single(h => h.VmmId == "vmm-3").FailureReason);
        Assert.Contains(operation.History, h => h.Note == "repair of tree v3 failed: no live VMM can take vmm-3; vmm-3 cannot be fed");
    }

    [Fact]
    public async Task Should_fail_the_members_topology_could_not_place()
    {
        var id = await Transferring(BroadcastMode.Broadcast);
        await Publish(new OperationVmmLost(id, "vmm-1", "no heartbeat since 08:59"));
        await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);

        await Publish(new TreeRepaired(id, TestTree.Repaired(4, ("vmm-2", TestTree.Root)), ["vmm-3"]));
        await Receive(id, "vmm-2");

        var operation = await OperationIn(id, m => m.CompletedWithFailures);
        var left = operation.Hosts.Single(h => h.VmmId == "vmm-3");
        Assert.Equal("left out of tree v4: topology could not place it (unknown or lost in the registry)", left.FailureReason);
        Assert.True(left.MayRejoin);
        Assert.Contains(operation.History, h => h.Note == "tree v4 repaired after vmm-1 was lost: no VMM re-parented; vmm-3 left out (not live in the registry)");
    }
}
