using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using Treecast.Contracts;
using Treecast.Persistence.Bson;

namespace Treecast.Persistence.Tests.Bson;

/// <summary>The immutable contract records that sagas keep round-trip through their constructors. No server needed.</summary>
public sealed class ContractRecordMappingSpecs
{
    public ContractRecordMappingSpecs() => TreecastBsonConventions.Register();

    [Fact]
    public void A_vm_image_round_trips() => AssertRoundTrips(new VmImage("vm-1", 1L << 33, new string('f', 64)));

    [Fact]
    public void A_vm_copy_round_trips_with_and_without_its_optional_member()
    {
        AssertRoundTrips(new VmCopy("vm-1", new string('b', 64), VmState.Running, "52:54:00:aa:bb:cc"));
        AssertRoundTrips(new VmCopy("vm-2", new string('c', 64), VmState.Stopped));
    }

    [Fact]
    public void A_tree_node_round_trips_with_and_without_a_parent()
    {
        AssertRoundTrips(new TreeNode("vmm-a", null, "site/pod/rack", "http://a:5001"));
        AssertRoundTrips(new TreeNode("vmm-b", "vmm-a", "site/pod/rack", "http://b:5001"));
        AssertRoundTrips(new TreeNode("vmm-c", "vmm-a", "site/pod/rack", "http://c:5001", ["vmm-a", "vmm-b"]));
    }

    [Fact]
    public void A_striped_tree_round_trips_with_every_stripes_parents()
    {
        var tree = new VmmTree(8, "vmm-a", 2,
        [
            new TreeNode("vmm-a", null, "s/p/r1", "http://a:5001", [null, null]),
            new TreeNode("vmm-b", "vmm-a", "s/p/r1", "http://b:5001", ["vmm-a", "vmm-c"]),
            new TreeNode("vmm-c", "vmm-b", "s/p/r1", "http://c:5001", ["vmm-b", "vmm-a"]),
        ], Stripes: 2);

        var back = BsonSerializer.Deserialize<VmmTree>(tree.ToBsonDocument());

        Assert.Equal(2, back.Stripes);
        Assert.Equal(tree.Nodes, back.Nodes);
        Assert.Equal("vmm-c", back.ParentOf("vmm-b", 1));
        Assert.Equal(["vmm-c"], back.ChildrenOf("vmm-a", 1).Select(n => n.VmmId));
    }

    [Fact]
    public void A_tree_round_trips_and_still_answers_questions()
    {
        var tree = new VmmTree(7, "vmm-a", 2,
        [
            new TreeNode("vmm-a", null, "s/p/r1", "http://a:5001"),
            new TreeNode("vmm-b", "vmm-a", "s/p/r1", "http://b:5001"),
            new TreeNode("vmm-c", "vmm-a", "s/p/r2", "http://c:5001"),
        ]);

        var back = BsonSerializer.Deserialize<VmmTree>(tree.ToBsonDocument());

        Assert.Equal(tree.Version, back.Version);
        Assert.Equal(tree.RootVmmId, back.RootVmmId);
        Assert.Equal(tree.FanOut, back.FanOut);
        Assert.Equal(tree.Nodes, back.Nodes);
        Assert.Equal(["vmm-b", "vmm-c"], back.ChildrenOf("vmm-a").Select(n => n.VmmId));
        Assert.Equal("vmm-a", back.Find("vmm-c")?.ParentVmmId);
    }

    [Fact]
    public void A_tree_stores_only_its_data()
    {
        var document = new VmmTree(1, "vmm-a", 2, [new TreeNode("vmm-a", null, "s/p/r", "http://a:5001")]).ToBsonDocument();

        Assert.Equal(["Version", "RootVmmId", "FanOut", "Nodes", "Stripes"], document.Names);
    }

    private static void AssertRoundTrips<T>(T value)
    {
        var document = value.ToBsonDocument();
        var back = BsonSerializer.Deserialize<T>(document);
        Assert.Equal(value, back);
    }
}
