using Treecast.Contracts;
using Treecast.Policy.Sagas;

namespace Treecast.Policy.Api;

/// <summary>One line of <c>GET /operations</c>: enough to see where an operation is; <c>GET /operations/{id}</c> has the rest.</summary>
public sealed record OperationSummaryView(
    Guid Id,
    BroadcastMode Mode,
    string State,
    string Root,
    DateTimeOffset RequestedAt,
    DateTimeOffset? FinishedAt,
    string? FailureReason,
    OperationProgressView Progress)
{
    public static OperationSummaryView From(BroadcastOperationState operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return new OperationSummaryView(
            operation.CorrelationId,
            operation.Mode,
            operation.CurrentState,
            operation.RootVmmId,
            operation.RequestedAt,
            operation.FinishedAt,
            operation.FailureReason,
            new OperationProgressView(operation.Hosts.Count(h => h.Verified), operation.Hosts.Count));
    }
}
