using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Treecast.Persistence.Bson;
using Treecast.Topology.Registry;
using Treecast.Topology.Trees;

namespace Treecast.Topology.Tests.Stores;

/// <summary>The topology service's documents survive the driver's serializers unchanged and read as operators expect. No server needed.</summary>
public sealed class TopologyDocumentMappingSpecs
{
    private static readonly DateTimeOffset SeenAt = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567);

    public TopologyDocumentMappingSpecs() => TreecastBsonConventions.Register();

    [Fact]
    public void A_registry_entry_round_trips_unchanged()
    {
        var vmm = new RegisteredVmm("vmm-a", "http://vmm-a:5100", "site-1/pod-1/rack-1", ["vm-1", "vm-2"], SeenAt, TimeSpan.FromSeconds(2), IsLost: true);

        var back = BsonSerializer.Deserialize<StoredVmm>(StoredVmm.From(vmm).ToBsonDocument()).ToRegisteredVmm();

        Assert.Equal(vmm.VmmId, back.VmmId);
        Assert.Equal(vmm.GrpcEndpoint, back.GrpcEndpoint);
        Assert.Equal(vmm.Location, back.Location);
        Assert.Equal(vmm.VmIds, back.VmIds);
        Assert.Equal(vmm.LastSeenAt, back.LastSeenAt);
        Assert.Equal(vmm.LastSeenAt.Offset, back.LastSeenAt.Offset);
        Assert.Equal(vmm.Interval, back.Interval);
        Assert.True(back.IsLost);
    }

    [Fact]
    public void A_registry_entry_is_keyed_by_vmm_id_with_a_utc_date()
    {
        var document = StoredVmm.From(new RegisteredVmm("vmm-a", "http://vmm-a:5100", "site-1", [], SeenAt, TimeSpan.FromSeconds(2))).ToBsonDocument();

        Assert.Equal("vmm-a", document["_id"].AsString);
        Assert.False(document.Contains(nameof(StoredVmm.VmmId)));
        Assert.Equal(new DateTime(2026, 11, 25, 9, 0, 0, 123, DateTimeKind.Utc), document["LastSeenAt"]["DateTime"].ToUniversalTime());
        Assert.Equal(SeenAt.UtcTicks, document["LastSeenUtcTicks"].AsInt64);
    }

    [Fact]
    public void A_tree_round_trips_unchanged()
    {
        var tree = new Treecast.Contracts.VmmTree(7, "vmm-0", 2,
        [
            new Treecast.Contracts.TreeNode("vmm-0", null, "site-1/pod-1/rack-1", "http://vmm-0:5100"),
            new Treecast.Contracts.TreeNode("vmm-1", "vmm-0", "site-1/pod-1/rack-2", "http://vmm-1:5100"),
        ]);

        var document = StoredTree.From(tree, SeenAt).ToBsonDocument();
        var stored = BsonSerializer.Deserialize<StoredTree>(document);
        var back = stored.ToTree();

        Assert.Equal(7L, document["_id"].AsInt64);
        Assert.Equal(BsonNull.Value, document["Nodes"][0]["ParentVmmId"]);
        Assert.Equal(tree.Version, back.Version);
        Assert.Equal(tree.RootVmmId, back.RootVmmId);
        Assert.Equal(tree.FanOut, back.FanOut);
        Assert.Equal(tree.Nodes, back.Nodes);
        Assert.Equal(SeenAt, stored.RecordedAt);
    }

    [Fact]
    public void A_striped_tree_round_trips_with_its_stripes()
    {
        var tree = new Treecast.Contracts.VmmTree(9, "vmm-0", 2,
        [
            new Treecast.Contracts.TreeNode("vmm-0", null, "site-1/pod-1/rack-1", "http://vmm-0:5100", [null, null]),
            new Treecast.Contracts.TreeNode("vmm-1", "vmm-0", "site-1/pod-1/rack-1", "http://vmm-1:5100", ["vmm-0", "vmm-2"]),
            new Treecast.Contracts.TreeNode("vmm-2", "vmm-1", "site-1/pod-1/rack-1", "http://vmm-2:5100", ["vmm-1", "vmm-0"]),
        ], Stripes: 2);

        var back = BsonSerializer.Deserialize<StoredTree>(StoredTree.From(tree, SeenAt).ToBsonDocument()).ToTree();

        Assert.Equal(2, back.Stripes);
        Assert.Equal(tree.Nodes, back.Nodes);
        Assert.Equal("vmm-2", back.ParentOf("vmm-1", 1));
    }

    [Fact]
    public void A_tree_stored_before_stripes_reads_back_with_one()
    {
        var document = StoredTree.From(new Treecast.Contracts.VmmTree(3, "vmm-0", 2, [new Treecast.Contracts.TreeNode("vmm-0", null, "s/p/r", "http://vmm-0:5100")]), SeenAt)
            .ToBsonDocument();
        document.Remove("Stripes");

        Assert.Equal(1, BsonSerializer.Deserialize<StoredTree>(document).ToTree().Stripes);
    }

    [Fact]
    public void The_version_counter_has_a_string_id_no_tree_can_have()
    {
        var document = new TreeVersionCounter { Value = 41 }.ToBsonDocument();

        Assert.Equal(TreeVersionCounter.Id, document["_id"].AsString);
        Assert.Equal(41L, BsonSerializer.Deserialize<TreeVersionCounter>(document).Value);
    }
}
