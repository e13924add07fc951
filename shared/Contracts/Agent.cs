namespace Treecast.Contracts;

// Commands are sent to one agent (Addresses.Agent(vmmId): the exchange of its queue); events are published.

/// <summary>Pause every VM on the named VMM and report their images.</summary>
public sealed record PauseVms(Guid OperationId, string VmmId);

/// <summary>The root's VMs are paused; an image whose stream is still being written is unsealed (see <see cref="VmImage"/>).</summary>
public sealed record VmsPaused(Guid OperationId, string VmmId, IReadOnlyList<VmImage> Vms);

/// <summary>
/// The root's image streams have ended: every VM of the operation with its final size and SHA-256. Published only when
/// <see cref="VmsPaused"/> carried unsealed images; copies are checked against these digests.
/// </summary>
public sealed record VmImagesSealed(Guid OperationId, string VmmId, IReadOnlyList<VmImage> Vms);

/// <summary>Tell the root agent to announce the pending transfer to the other VMMs of the tree.</summary>
public sealed record AnnouncePendingTransfer(
    Guid OperationId,
    string VmmId,
    VmmTree Tree,
    IReadOnlyList<VmImage> Vms,
    int ChunkSizeBytes,
    BroadcastMode Mode);

/// <summary>
/// The root's announcement to every other agent of the tree. Only the parent named in
/// <see cref="Tree"/>, presenting <see cref="Token"/>, may push this operation's chunks to an agent.
/// </summary>
public sealed record PendingTransferAnnounced(
    Guid OperationId,
    string RootVmmId,
    VmmTree Tree,
    IReadOnlyList<VmImage> Vms,
    string Token,
    int ChunkSizeBytes,
    BroadcastMode Mode);

/// <summary>An agent has prepared to receive (spool space, expected parent and token).</summary>
public sealed record ReadyToReceive(Guid OperationId, string VmmId);

/// <summary>Tell the root agent to start streaming to its children.</summary>
public sealed record StartTransfer(Guid OperationId, string VmmId);

/// <summary>Coarse progress of one VMM's receive (at most a few per second per VMM).</summary>
public sealed record TransferProgressed(Guid OperationId, string VmmId, long BytesReceived, long TotalBytes);

/// <summary>Every announced VM arrived on this VMM and matched its SHA-256.</summary>
public sealed record VmsReceived(Guid OperationId, string VmmId, IReadOnlyList<VmCopy> Vms);

/// <summary>A step failed on one VMM; for <see cref="OperationStep.Relay"/>, <see cref="VmmId"/> is the child the parent could not feed.</summary>
public sealed record OperationStepFailed(Guid OperationId, string VmmId, OperationStep Step, string Reason);

/// <summary>Resume the VMs of the operation on this VMM (duplicate mode: copies get their own identity).</summary>
public sealed record ResumeVms(Guid OperationId, string VmmId, bool IsRoot);

public sealed record VmsResumed(Guid OperationId, string VmmId, IReadOnlyList<VmCopy> Vms);

/// <summary>
/// A receiver's stream from its parent broke and no parent came back within the agent's grace period. The operation
/// re-parents it; it holds <see cref="BytesHeld"/> verified bytes and resumes from there.
/// </summary>
public sealed record ParentUnreachable(Guid OperationId, string VmmId, string ParentVmmId, long BytesHeld, string Reason);

/// <summary>
/// An agent restarted and found this operation's receive in its work directory: it holds <see cref="BytesHeld"/>
/// verified bytes and waits for its parent to resume the stream.
/// </summary>
public sealed record ReceiveResumed(Guid OperationId, string VmmId, long BytesHeld);

/// <summary>
/// Stop the operation on this VMM: end its streams, and delete its partial copies and the copies it adopted but never
/// resumed. Sent to every VMM of a cancelled operation (the root also gets <see cref="ResumeVms"/>).
/// </summary>
public sealed record CancelTransfer(Guid OperationId, string VmmId);

/// <summary>The VMM stopped the operation; <see cref="DiscardedVmIds"/> are the copies it deleted.</summary>
public sealed record TransferCancelled(Guid OperationId, string VmmId, IReadOnlyList<string> DiscardedVmIds);
