using Grpc.Core;

namespace Treecast.Agent.Transfer;

/// <summary>A push to a child failed for good; the message names the child, the VM and the offset.</summary>
public sealed class TransferFailedException(string message, StatusCode status, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The child's answer (for example <c>PermissionDenied</c> or <c>DataLoss</c>), or <c>Unknown</c>.</summary>
    public StatusCode Status { get; } = status;
}
