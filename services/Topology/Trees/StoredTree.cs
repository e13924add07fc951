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
            Nodes = [.. tree.Nodes],
            RecordedAt = recordedAt,
        };
    }

    public VmmTree ToTree() => new(Version, RootVmmId, FanOut, [.. Nodes]);
}
