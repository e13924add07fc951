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
/// <param name="Definition">How a receiving VMM recreates the VM (QEMU needs it; the simulated VMM does not).</param>
public sealed record VmImage(string VmId, long Bytes, string Sha256, VmDefinition? Definition = null);

/// <summary>What a VMM needs to recreate a VM before loading its state: the hypervisor-level description.</summary>
/// <param name="Kind"><c>simulated</c> or <c>qemu</c>.</param>
/// <param name="BootImage">A guest image path every host has (QEMU), or null.</param>
public sealed record VmDefinition(string Kind, int MemoryMiB, string MachineType, string? BootImage);

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
