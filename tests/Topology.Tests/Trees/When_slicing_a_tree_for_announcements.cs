using System.Text.Json;
using MassTransit;
using MassTransit.Serialization;
using Treecast.Contracts;
using Treecast.TestSupport;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;
using Xunit.Abstractions;

namespace Treecast.Topology.Tests.Trees;

/// <summary>
/// The root's agent sends each VMM only its slice of the tree (<see cref="TreeSlices"/>, held to <see cref="TreeSliceReference.SliceFor"/>):
/// the slice must answer what an agent asks of the tree about itself as the whole tree does, and stay small at any size.
/// </summary>
public sealed class When_slicing_a_tree_for_announcements(ITestOutputHelper output)
{
    /// <summary>The most one VMM's announcement may weigh on the bus at 100,000 VMMs (issue 9).</summary>
    private const int MaxAnnouncementBytes = 64 * 1024;

    private readonly TreeBuilder _builder = new();

    public static TheoryData<int, int> SeedsAndStripes() => new() { { 1, 1 }, { 2, 2 }, { 3, 4 }, { 5, 3 }, { 8, 16 } };

    [Theory]
    [MemberData(nameof(SeedsAndStripes))]
    public void Should_answer_every_vmms_questions_about_itself_as_the_whole_tree_does(int seed, int stripes)
    {
        var fleet = GeneratedFleet.Create(seed, hosts: 60);
        var tree = _builder.Build(fleet.RootVmmId, 2, [.. fleet.Live], 7, stripes);

        foreach (var node in tree.Nodes)
        {
            var slice = tree.SliceFor(node.VmmId);
            Assert.Equal((tree.Version, tree.RootVmmId, tree.FanOut, tree.Stripes), (slice.Version, slice.RootVmmId, slice.FanOut, slice.Stripes));
            Assert.Equal(node, slice.Find(node.VmmId));
            Assert.Equal(tree.ChildrenOf(node.VmmId), slice.ChildrenOf(node.VmmId));
            for (var stripe = 0; stripe < stripes; stripe++)
            {
                Assert.Equal(tree.ParentOf(node.VmmId, stripe), slice.ParentOf(node.VmmId, stripe));
                Assert.Equal(tree.ChildrenOf(node.VmmId, stripe), slice.ChildrenOf(node.VmmId, stripe));
            }

            // Nothing else: another VMM's place in the tree is none of its business.
            var children = Enumerable.Range(0, stripes).SelectMany(s => tree.ChildrenOf(node.VmmId, s)).Select(c => c.VmmId).Distinct();
            Assert.Equal(children.Prepend(node.VmmId).Order(), slice.Nodes.Select(n => n.VmmId).Order());
        }
    }

    [Theory]
    [MemberData(nameof(SeedsAndStripes))]
    public void Should_slice_a_whole_tree_at_once_as_one_vmm_at_a_time(int seed, int stripes)
    {
        var fleet = GeneratedFleet.Create(seed, hosts: 60);
        var tree = _builder.Build(fleet.RootVmmId, 2, [.. fleet.Live], 7, stripes);

        var slices = TreeSlices.Of(tree).ToList();

        Assert.Equal(tree.Nodes.Select(n => n.VmmId), slices.Select(s => s.VmmId));
        Assert.All(slices, s => Assert.Equal(tree.SliceFor(s.VmmId).Nodes, s.Slice.Nodes));
    }

    [Fact]
    public void Should_give_a_vmm_the_tree_leaves_out_no_nodes()
    {
        var fleet = GeneratedFleet.Create(1, hosts: 20);
        var tree = _builder.Build(fleet.RootVmmId, 2, [.. fleet.Live], 7, 2);

        var slice = tree.SliceFor("vmm-not-in-the-tree");

        Assert.Empty(slice.Nodes);
        Assert.Null(slice.Find("vmm-not-in-the-tree"));
        Assert.Equal((tree.Version, tree.RootVmmId, tree.Stripes), (slice.Version, slice.RootVmmId, slice.Stripes));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Should_keep_every_announcement_under_64_KiB_at_100000_vmms(int stripes)
    {
        var vmms = Datacenter(100_000);
        var tree = _builder.Build(vmms[0].VmmId, 2, vmms, 1, stripes);
        var announced = new PendingTransferAnnounced(
            Guid.NewGuid(),
            tree.RootVmmId,
            tree,
            [.. Enumerable.Range(0, 4).Select(i => new VmImage($"{tree.RootVmmId}-vm-{i}", 8L << 30, new string('a', 64), new VmDefinition("qemu", 8192, "pc-q35-9.2", "/var/lib/treecast/boot/guest.qcow2")))],
            new string('t', 43),
            1024 * 1024,
            BroadcastMode.Broadcast);

        var largest = TreeSlices.Of(tree).Select(s => (s.VmmId, Bytes: OnTheWire(announced with { Tree = s.Slice }))).MaxBy(s => s.Bytes);
        var whole = OnTheWire(announced);

        output.WriteLine(
            $"{stripes} stripe(s), {tree.Nodes.Count:N0} VMMs: largest announcement {largest.Bytes:N0} bytes ({largest.VmmId}), "
            + $"the whole tree's {whole:N0} bytes ({whole / 1024.0 / 1024.0:F1} MiB)");
        Assert.InRange(largest.Bytes, 1, MaxAnnouncementBytes);
    }

    /// <summary>The bytes of <paramref name="message"/> as MassTransit's System.Text.Json serializer puts it on the wire: its envelope, headers and addresses.</summary>
    private static int OnTheWire(PendingTransferAnnounced message)
    {
        var envelope = new JsonMessageEnvelope
        {
            MessageId = Guid.NewGuid().ToString(),
            ConversationId = Guid.NewGuid().ToString(),
            SourceAddress = "rabbitmq://rabbitmq.treecast.internal/agent-vmm-000000",
            DestinationAddress = "rabbitmq://rabbitmq.treecast.internal/agent-vmm-099999",
            MessageType = [MessageUrn.ForTypeString<PendingTransferAnnounced>()],
            Message = message,
            SentTime = DateTime.UtcNow,
            Headers = new Dictionary<string, object?>(),
            Host = MassTransit.Metadata.HostMetadataCache.Host,
        };
        return JsonSerializer.SerializeToUtf8Bytes(envelope, SystemTextJsonMessageSerializer.Options).Length;
    }

    /// <summary>A fleet laid out as a datacenter: 40 hosts to a rack, 20 racks to a pod, 5 pods to a site (as the bench's <c>trees</c>).</summary>
    private static List<RegisteredVmm> Datacenter(int hosts) =>
        [.. Enumerable.Range(0, hosts).Select(i =>
        {
            var rack = i / 40;
            var pod = rack / 20;
            var id = $"vmm-{i:D6}";
            var location = $"site-{(pod / 5) + 1}/pod-{(pod % 5) + 1}/rack-{(rack % 20) + 1}";
            return new RegisteredVmm(id, $"https://{id}.{location.Replace('/', '.')}.treecast.internal:5001", location, [$"{id}-vm-0"], GeneratedFleet.SeenAt, TimeSpan.FromSeconds(2));
        })];
}
