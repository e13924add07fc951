using MongoDB.Bson.Serialization.Attributes;
using Treecast.Contracts;

namespace Treecast.Topology.Trees;

/// <summary>One built tree as a document of the <c>trees</c> collection, keyed by its version.</summary>
public sealed class StoredTree
{
    [BsonId]
    public long Version { get; set; }

    public string RootVmmId { get; set; } = string.Empty;

    public int FanOut { get; set; }

    /// <summary>Stripe trees over the same nodes (each node names its parent in each); 1 in documents written before stripes.</summary>
    public int Stripes { get; set; } = 1;

    public List<TreeNode> Nodes { get; set; } = [];

    public DateTimeOffset RecordedAt { get; set; }

    public static StoredTree From(VmmTree tree, DateTimeOffset recordedAt)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return new StoredTree
        {
            Version = tree.Version,
            RootVmmId = tree.RootVmmId,
            FanOut = tree.FanOut,
            Stripes = tree.Stripes,
            Nodes = [.. tree.Nodes],
            RecordedAt = recordedAt,
        };
    }

    public VmmTree ToTree() => new(Version, RootVmmId, FanOut, [.. Nodes], Math.Max(Stripes, 1));
}
