using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>What one forwarder pushes to one child: the operation's manifest, token and chunk size.</summary>
public sealed record ForwardTarget(
    Guid OperationId,
    string Token,
    string SenderVmmId,
    TreeNode Child,
    IReadOnlyList<VmImage> Vms,
    int ChunkSizeBytes);
