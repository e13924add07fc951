using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Tests.Sagas;

/// <summary>
/// A broadcast over a striped tree (<see cref="TestTree.Striped"/>): stripe 0 as <see cref="TestTree.Build"/>, and in
/// stripe 1 vmm-0 feeds vmm-2, which feeds vmm-1 and vmm-3. A VMM is fed by its parent in every stripe, so the saga reads
/// every stripe's parents when a parent fails or is unreachable.
/// </summary>
public sealed class When_a_striped_broadcast_is_requested : SagaSpecification
{
    private static readonly DateTimeOffset At = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Should_ask_topology_for_the_stripes_in_the_first_tree_and_in_every_repair()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast, stripes: 3);

        Assert.Equal(new ResolveTree(id, TestTree.Root, 2, 3, 65536), await SentTo<ResolveTree>(Addresses.TopologyQueue, m => m.OperationId == id));
        await ResolveTree(id, TestTree.Build());
        await Announce(id);
        await ReadyEveryReceiver(id);

        await Publish(new ParentUnreachable(id, "vmm-3", "vmm-1", 4096, "connection refused"));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(3, repair.Stripes);
    }

    [Fact]
    public async Task Should_repair_with_the_stripes_topology_chose_when_the_policy_left_them_to_it()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast);
        await ResolveTree(id, TestTree.Striped());
        await Announce(id);
        await ReadyEveryReceiver(id);

        await Publish(new ParentUnreachable(id, "vmm-3", "vmm-1", 4096, "connection refused"));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(2, repair.Stripes);
    }

    [Fact]
    public async Task Should_act_on_an_unreachable_parent_in_any_stripe()
    {
        var id = await RequestBroadcast(BroadcastMode.Broadcast, stripes: 2);
        await ResolveTree(id, TestTree.Striped());
        await Announce(id);
        await ReadyEveryReceiver(id);

        // vmm-2 is vmm-3's parent in stripe 1 only.
        await Publish(new ParentUnreachable(id, "vmm-3", "vmm-2", 4096, "connection refused"));

        var repair = await SentTo<RepairTree>(Addresses.TopologyQueue, m => m.OperationId == id);
        Assert.Equal(["vmm-0", "vmm-1", "vmm-3"], repair.Members);
        var parent = (await OperationIn(id, m => m.Transferring)).Hosts.Single(h => h.VmmId == "vmm-2");
        Assert.Equal("unreachable from vmm-3: connection refused", parent.FailureReason);
    }

    [Fact]
    public void Should_drop_with_a_failed_relay_every_unverified_vmm_it_feeds_in_any_stripe()
    {
        var operation = Announced();
        operation.AcceptCopies(new VmsReceived(operation.CorrelationId, "vmm-1", TestTree.Copies(VmState.Paused)));

        var dropped = operation.DropReceiver("vmm-2", OperationStep.Relay, "connection reset");

        // vmm-3 took stripe 1 from vmm-2; vmm-1, verified already, feeds its own subtree.
        Assert.Equal(["vmm-2", "vmm-3"], dropped.Select(h => h.VmmId));
        Assert.Equal("parent vmm-2 failed", dropped[1].FailureReason);
        Assert.False(operation.Hosts.Single(h => h.VmmId == "vmm-1").Failed);
    }

    [Fact]
    public void Should_count_a_receiver_orphaned_when_its_parent_in_any_stripe_failed()
    {
        var operation = Announced();

        operation.FailReceiver("vmm-2", "lost: no heartbeat", mayRejoin: true);

        Assert.Equal(["vmm-1", "vmm-3"], operation.Orphans().Select(h => h.VmmId));
        Assert.True(operation.IsLiveChildOf("vmm-1", "vmm-2"));
        Assert.False(operation.IsLiveChildOf("vmm-1", "vmm-3"));
        Assert.Equal(["vmm-1", "vmm-3"], operation.DropOrphans().Select(h => h.VmmId));
        Assert.Equal("parent vmm-2 failed", operation.Hosts.Single(h => h.VmmId == "vmm-1").FailureReason);
        Assert.StartsWith("parent vmm-", operation.Hosts.Single(h => h.VmmId == "vmm-3").FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_note_a_vmm_re_parented_in_one_stripe_only()
    {
        var operation = Announced();
        var repaired = TestTree.Striped(version: 4) with
        {
            Nodes = TestTree.Striped().Nodes.Select(n => n.VmmId == "vmm-3" ? n with { StripeParents = ["vmm-1", Root] } : n).ToArray(),
        };

        var note = operation.AdoptRepairedTree(new TreeRepaired(operation.CorrelationId, repaired, []));

        Assert.Equal("tree v4 repaired after a repair: vmm-3 re-parented", note);
        Assert.Equal(["vmm-1", Root], operation.Hosts.Single(h => h.VmmId == "vmm-3").StripeParents);
    }

    private const string Root = TestTree.Root;

    private static BroadcastOperationState Announced()
    {
        var operation = new BroadcastOperationState { CorrelationId = Guid.NewGuid() };
        operation.Start(new BroadcastRequested(operation.CorrelationId, TestTree.Root, BroadcastMode.Broadcast, 2, 65536, "p", "r", At, 2));
        operation.AdoptTree(TestTree.Striped());
        operation.RecordPaused(TestTree.Vms, At);
        return operation;
    }
}
