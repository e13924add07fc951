using Treecast.Contracts;
using Treecast.Policy.Operations;
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
    public static OperationSummaryView From(BroadcastOperationState operation, IEnumerable<ReceiverProgress> reports)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(reports);
        var byVmm = reports.ToDictionary(r => r.VmmId, StringComparer.Ordinal);
        var receivers = operation.Receivers().ToList();
        return new OperationSummaryView(
            operation.CorrelationId,
            operation.Mode,
            operation.CurrentState,
            operation.RootVmmId,
            operation.RequestedAt,
            operation.FinishedAt,
            operation.FailureReason,
            new OperationProgressView(
                operation.Hosts.Count(h => h.Verified),
                operation.Hosts.Count,
                receivers.Sum(h => Math.Max(h.BytesReceived, byVmm.GetValueOrDefault(h.VmmId)?.BytesReceived ?? 0)),
                receivers.Sum(h => Math.Max(h.TotalBytes, byVmm.GetValueOrDefault(h.VmmId)?.TotalBytes ?? 0)),
                byVmm.Count == 0 ? null : byVmm.Values.Max(r => r.LastProgressAt)));
    }
}
