namespace Treecast.Topology.Trees;

/// <summary>A member placed in one tree under <see cref="Parent"/>.</summary>
internal sealed class Placement(TreeMember member, Placement? parent, int order)
{
    public TreeMember Member { get; } = member;

    public Placement? Parent { get; } = parent;

    public int Depth { get; } = parent is null ? 0 : parent.Depth + 1;

    /// <summary>Placement order in its tree: parents come before their children.</summary>
    public int Order { get; } = order;

    public int Children { get; set; }

    /// <summary>The members in the subtree under and including this one, so far.</summary>
    public int Weight { get; set; } = 1;
}
