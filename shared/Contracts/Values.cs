namespace Treecast.Contracts;

public enum BroadcastMode
{
    /// <summary>Copies stay paused on every VMM (a warm standby of the root's VMs).</summary>
    Broadcast,

    /// <summary>Copies and the root's VMs are resumed everywhere (the deadline safeguard).</summary>
    Duplicate,
}

/// <summary>The step of a broadcast operation that failed on a VMM (<see cref="OperationStepFailed.Step"/>).</summary>
public enum OperationStep
{
    /// <summary>The root pausing its VMs or saving their images.</summary>
    Pause,

    /// <summary>The root announcing the pending transfer.</summary>
    Announce,

    /// <summary>A receiver preparing for, storing, verifying or adopting its copies.</summary>
    Receive,

    /// <summary>A parent pushing to the child named in the failure.</summary>
    Relay,

    /// <summary>A copy that does not match the root's sealed digests.</summary>
    Verify,

    /// <summary>A VMM resuming its VMs or copies.</summary>
    Resume,

    /// <summary>A VMM stopping the operation and discarding its partial copies.</summary>
    Cancel,
}

/// <summary>How a broadcast operation ended (<see cref="BroadcastOperationFinished.State"/>).</summary>
public enum OperationFinalState
{
    /// <summary>Every VMM holds verified, paused copies (broadcast mode).</summary>
    Completed,

    /// <summary>Every VMM that did not fail holds verified copies; the failed ones are named with their reason.</summary>
    CompletedWithFailures,

    /// <summary>Every VMM runs verified copies of the root's VMs (duplicate mode).</summary>
    Duplicated,

    /// <summary>Nothing was copied: the root failed, or every receiver did.</summary>
    Failed,

    /// <summary>Someone cancelled it: streaming stopped, the root's VMs run again, partial copies were deleted.</summary>
    Cancelled,

    /// <summary>A step made no progress in time, or the transfer exceeded its budget.</summary>
    TimedOut,
}

/// <summary>How an agent sees a workload it was asked about.</summary>
public enum WorkloadStatus
{
    /// <summary>The VMM never ran a workload of that id (an external job, or another host's).</summary>
    Unknown,

    Running,

    Completed,
}

public enum VmState
{
    Running,
    Paused,
    Stopped,
}

/// <summary>One VM image as announced by the root: its size and whole-image SHA-256 (lower-case hex).</summary>
/// <remarks>
/// An image still being written when it is announced (a QEMU migration stream) is <em>unsealed</em>: <see cref="Bytes"/> is
/// <see cref="UnknownBytes"/> and <see cref="Sha256"/> empty. Its size and digest travel with the stream's end marker and,
/// once the root's stream ended, in <see cref="VmImagesSealed"/>.
/// </remarks>
/// <param name="Definition">How a receiving VMM recreates the VM (QEMU needs it; the simulated VMM does not).</param>
public sealed record VmImage(string VmId, long Bytes, string Sha256, VmDefinition? Definition = null)
{
    /// <summary>The size of an image whose stream has not ended yet.</summary>
    public const long UnknownBytes = -1;

    /// <summary>True when the size and SHA-256 are known (the image's stream has ended).</summary>
    public bool IsSealed => Bytes >= 0;

    /// <summary>An image announced before its stream ended: no size, no digest yet.</summary>
    public static VmImage Unsealed(string vmId, VmDefinition? definition = null) => new(vmId, UnknownBytes, string.Empty, definition);
}

/// <summary>What a VMM needs to recreate a VM before loading its state: the hypervisor-level description.</summary>
/// <param name="Kind"><c>simulated</c> or <c>qemu</c>.</param>
/// <param name="BootImage">A guest image path every host has (QEMU), or null.</param>
public sealed record VmDefinition(string Kind, int MemoryMiB, string MachineType, string? BootImage);

/// <summary>A VM as held by one VMM after an operation.</summary>
public sealed record VmCopy(string VmId, string Sha256, VmState State, string? MacAddress = null);

/// <summary>One VMM in a tree: who it is, where it sits, who feeds it.</summary>
/// <param name="ParentVmmId">The parent in stripe 0's tree (the only tree when the tree has one stripe); null at the root.</param>
/// <param name="StripeParents">
/// In a striped tree (<see cref="VmmTree.Stripes"/> above 1), the parent in each stripe's tree, index = stripe (entry 0
/// equals <paramref name="ParentVmmId"/>); null in a tree of one stripe.
/// </param>
public sealed record TreeNode(string VmmId, string? ParentVmmId, string Location, string GrpcEndpoint, IReadOnlyList<string?>? StripeParents = null)
{
    /// <summary>The parent of this VMM in <paramref name="stripe"/>'s tree.</summary>
    public string? ParentIn(int stripe) =>
        stripe == 0 || StripeParents is null ? ParentVmmId : StripeParents[stripe];

    // By value, stripe parents included: a node read back from a message or a document equals the one written.
    public bool Equals(TreeNode? other) =>
        other is not null
        && VmmId == other.VmmId
        && ParentVmmId == other.ParentVmmId
        && Location == other.Location
        && GrpcEndpoint == other.GrpcEndpoint
        && (ReferenceEquals(StripeParents, other.StripeParents)
            || (StripeParents is not null && other.StripeParents is not null && StripeParents.SequenceEqual(other.StripeParents)));

    public override int GetHashCode() => HashCode.Combine(VmmId, ParentVmmId, Location, GrpcEndpoint, StripeParents?.Count);
}

/// <summary>A versioned tree of VMMs rooted at <see cref="RootVmmId"/>; every node appears once.</summary>
/// <remarks>
/// A striped tree (<see cref="Stripes"/> k above 1) is k trees over the same VMMs, one per stripe of every image (the
/// chunks whose index modulo k is the stripe): each node names its parent in each (<see cref="TreeNode.StripeParents"/>),
/// and each is a spanning tree rooted at <see cref="RootVmmId"/>. Stripe 0's tree alone is a valid tree for the whole image.
/// </remarks>
public sealed record VmmTree(long Version, string RootVmmId, int FanOut, IReadOnlyList<TreeNode> Nodes, int Stripes = 1)
{
    /// <summary>The most stripes a tree may have (a policy's <c>stripes</c>).</summary>
    public const int MaxStripes = 16;

    public TreeNode? Find(string vmmId) => Nodes.FirstOrDefault(n => n.VmmId == vmmId);

    /// <summary>The children of <paramref name="vmmId"/> in stripe 0's tree (the only tree of a tree of one stripe).</summary>
    public IEnumerable<TreeNode> ChildrenOf(string vmmId) => Nodes.Where(n => n.ParentVmmId == vmmId);

    public IEnumerable<TreeNode> ChildrenOf(string vmmId, int stripe) => Nodes.Where(n => n.ParentIn(stripe) == vmmId);

    /// <summary>The parent of <paramref name="vmmId"/> in <paramref name="stripe"/>'s tree; null for the root or a VMM not in the tree.</summary>
    public string? ParentOf(string vmmId, int stripe) => Find(vmmId)?.ParentIn(stripe);

    /// <summary>Stripe 0's tree alone: one stripe carrying every chunk (for images too small to be worth striping).</summary>
    public VmmTree FirstStripeOnly() =>
        Stripes == 1 ? this : this with { Stripes = 1, Nodes = [.. Nodes.Select(n => n with { StripeParents = null })] };
}
