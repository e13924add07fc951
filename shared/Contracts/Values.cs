namespace Treecast.Contracts;

public enum BroadcastMode
{
    /// <summary>Copies stay paused on every VMM (a warm standby of the root's VMs).</summary>
    Broadcast,

    /// <summary>Copies and the root's VMs are resumed everywhere (the deadline safeguard).</summary>
    Duplicate,
}

public enum VmState
{
    Running,
    Paused,
    Stopped,
}

/// <summary>One VM image as announced by the root: its size and whole-image SHA-256 (lower-case hex).</summary>
public sealed record VmImage(string VmId, long Bytes, string Sha256);

/// <summary>A VM as held by one VMM after an operation.</summary>
public sealed record VmCopy(string VmId, string Sha256, VmState State, string? MacAddress = null);

/// <summary>One VMM in a tree: who it is, where it sits, who feeds it.</summary>
public sealed record TreeNode(string VmmId, string? ParentVmmId, string Location, string GrpcEndpoint);

/// <summary>A versioned tree of VMMs rooted at <see cref="RootVmmId"/>; every node appears once.</summary>
public sealed record VmmTree(long Version, string RootVmmId, int FanOut, IReadOnlyList<TreeNode> Nodes)
{
    public TreeNode? Find(string vmmId) => Nodes.FirstOrDefault(n => n.VmmId == vmmId);

    public IEnumerable<TreeNode> ChildrenOf(string vmmId) => Nodes.Where(n => n.ParentVmmId == vmmId);
}
