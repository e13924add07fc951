using Treecast.Contracts;

namespace Treecast.Agent.Transfer;

/// <summary>
/// What one forwarder pushes to one child: the operation's manifest, token and chunk size, and the stripe (with
/// <paramref name="Vms"/> then the stripe's share of each image: unsealed, ended and sealed by its source).
/// </summary>
public sealed record ForwardTarget(
    Guid OperationId,
    string Token,
    string SenderVmmId,
    TreeNode Child,
    IReadOnlyList<VmImage> Vms,
    int ChunkSizeBytes,
    int Stripe = 0);
