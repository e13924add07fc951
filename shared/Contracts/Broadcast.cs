namespace Treecast.Contracts;

/// <summary>Starts a broadcast operation (the saga's initial event).</summary>
/// <param name="FanOut">Children per VMM at most; 0 for topology's default.</param>
/// <param name="Stripes">Stripe trees over the same VMMs (see <see cref="VmmTree"/>); 0 for topology's default.</param>
public sealed record BroadcastRequested(
    Guid OperationId,
    string RootVmmId,
    BroadcastMode Mode,
    int FanOut,
    int ChunkSizeBytes,
    string PolicyName,
    string Reason,
    DateTimeOffset RequestedAt,
    int Stripes = 0);

/// <summary>
/// Published when a broadcast operation reaches a final state, and again when a request for an operation that
/// already ended is redelivered, so the requester always gets the answer.
/// </summary>
public sealed record BroadcastOperationFinished(
    Guid OperationId,
    BroadcastMode Mode,
    OperationFinalState State,
    string RootVmmId,
    VmmTree? Tree,
    IReadOnlyList<VmImage> Vms,
    IReadOnlyList<HostCopies> Hosts,
    string? FailureReason,
    DateTimeOffset RequestedAt,
    DateTimeOffset FinishedAt);

/// <summary>What one VMM holds at the end of an operation.</summary>
public sealed record HostCopies(string VmmId, IReadOnlyList<VmCopy> Vms);

/// <summary>
/// Stop a running broadcast operation (sent to <see cref="Addresses.BroadcastOperations"/>): streaming stops, the
/// root's VMs run again, partial copies are deleted; the operation ends <see cref="OperationFinalState.Cancelled"/>.
/// </summary>
/// <param name="RequestedBy">Who asked (an operator, an API key's name), kept in the operation's history.</param>
public sealed record CancelOperation(Guid OperationId, string RequestedBy, string? Reason, DateTimeOffset RequestedAt);

/// <summary>
/// A VMM of a running operation was lost: topology's <see cref="VmmLost"/>, matched by the policy service to every
/// running operation whose tree holds that VMM.
/// </summary>
public sealed record OperationVmmLost(Guid OperationId, string VmmId, string Reason);
