using MongoDB.Bson.Serialization.Attributes;

namespace Treecast.Topology.Trees;

/// <summary>The one document of the <c>trees</c> collection that is not a tree: the last version handed out.</summary>
public sealed class TreeVersionCounter
{
    /// <summary>A string id, so it can never collide with a tree, whose ids are numbers.</summary>
    public const string Id = "version-counter";

    [BsonId]
    public string CounterId { get; set; } = Id;

    public long Value { get; set; }
}
