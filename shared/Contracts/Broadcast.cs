namespace Treecast.Contracts;

/// <summary>Starts a broadcast operation (the saga's initial event).</summary>
public sealed record BroadcastRequested(
    Guid OperationId,
    string RootVmmId,
    BroadcastMode Mode,
    int FanOut,
    int ChunkSizeBytes,
    string PolicyName,
    string Reason,
    DateTimeOffset RequestedAt);

/// <summary>Published once when a broadcast operation reaches a final state.</summary>
/// <param name="State"><c>Completed</c>, <c>Duplicated</c> or <c>Failed</c>.</param>
public sealed record BroadcastOperationFinished(
    Guid OperationId,
    BroadcastMode Mode,
    string State,
    string RootVmmId,
    VmmTree? Tree,
    IReadOnlyList<VmImage> Vms,
    IReadOnlyList<HostCopies> Hosts,
    string? FailureReason,
    DateTimeOffset RequestedAt,
    DateTimeOffset FinishedAt);

/// <summary>What one VMM holds at the end of an operation.</summary>
public sealed record HostCopies(string VmmId, IReadOnlyList<VmCopy> Vms);
